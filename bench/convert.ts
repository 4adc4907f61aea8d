// Our side of bench/convert.sh: DICOM -> decode + modality/VOI window + resize to 512 + 8-bit PNG.
// usage: node --import tsx bench/convert.ts IN_DIR OUT_DIR WORKERS   (WORKERS 0 = in-process, one at a time)
// Prints images per second (files are read before the clock starts, PNGs written after each file).
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConvertPool } from '../src/ops/dicom/convert-pool.ts';
import type { ConvertOptions } from '../src/ops/dicom/convert.ts';

const [inDir, outDir, workersArg = '0'] = process.argv.slice(2);
const workers = Number(workersArg);
await mkdir(outDir, { recursive: true });
const names = (await readdir(inDir)).filter((f) => f.endsWith('.dcm')).sort();
const files = await Promise.all(names.map((f) => readFile(join(inDir, f))));
const options: ConvertOptions = { window: 'auto', bits: 8, size: 512, frames: 'first' };
const pool = new ConvertPool(workers);

const convertOne = async (i: number) => {
  const result = await pool.convert(files[i], options);
  await writeFile(join(outDir, names[i].replace(/\.dcm$/, '.png')), result.images[0].png);
};
// Warm up (module load, wasm, worker start) on as many files as there are workers, untimed.
await Promise.all(Array.from({ length: Math.max(1, workers) }, (_, i) => convertOne(i % files.length)));

const start = performance.now();
if (workers === 0) {
  for (let i = 0; i < files.length; i++) await convertOne(i);
} else {
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next < files.length) await convertOne(next++);
  }));
}
const seconds = (performance.now() - start) / 1000;
await pool.close();
console.log((files.length / seconds).toFixed(2));
