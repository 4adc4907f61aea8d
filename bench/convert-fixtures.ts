// Writes N synthetic 2048x2048 12-bit DICOMs (explicit VR little endian, chest-like smooth anatomy plus
// noise; half MONOCHROME1, rescale and a window present) with the project's writer, for bench/convert.sh.
// usage: node --import tsx bench/convert-fixtures.ts OUT_DIR N [SIZE=2048]
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from '../src/ops/dicom/phantom.ts';
import { writeDicom } from '../src/ops/dicom/write.ts';

const [outDir, count = '24', sizeArg = '2048'] = process.argv.slice(2);
const size = Number(sizeArg);
await mkdir(outDir, { recursive: true });
for (let n = 0; n < Number(count); n++) {
  const rand = seededRandom(1000 + n);
  const blobs = Array.from({ length: 6 }, () => ({ x: rand() * size, y: rand() * size, r: size * (0.1 + rand() * 0.25), a: 600 + rand() * 1500 }));
  const pixels = new Uint16Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let v = 300 + (1200 * y) / size;
      for (const b of blobs) {
        const d2 = ((x - b.x) ** 2 + (y - b.y) ** 2) / (b.r * b.r);
        if (d2 < 4) v += b.a * Math.exp(-d2);
      }
      pixels[y * size + x] = Math.min(4095, Math.max(0, Math.round(v + (rand() - 0.5) * 60)));
    }
  }
  const bytes = writeDicom({
    rows: size,
    columns: size,
    pixels,
    bitsStored: 12,
    photometric: n % 2 ? 'MONOCHROME1' : 'MONOCHROME2',
    rescale: { slope: 1, intercept: -1024 },
    window: { center: 1000, width: 3000 },
  });
  await writeFile(join(outDir, `bench-${String(n).padStart(3, '0')}.dcm`), bytes);
}
