/**
 * CPU time of the preprocess bench's JS kernels alone (crop 1024 -> 902x696, CLAHE 2/8x8, area resize to
 * 512x512) on one decoded bench image, repeated: for profiling (node --cpu-prof) and quick comparisons.
 * usage: node --import tsx bench/preprocess_kernels.ts IMAGE.png [REPEATS=50]
 */
import { readFileSync } from 'node:fs';
import { clahe } from '../src/ops/image/clahe.ts';
import { cropByRates } from '../src/ops/image/crop.ts';
import { resizeArea } from '../src/ops/image/resize.ts';
import { decodeGrey } from '../src/ops/image/png.ts';

const [file, repeatsArg] = process.argv.slice(2);
const repeats = Number(repeatsArg ?? 50);
const image = await decodeGrey(readFileSync(file));
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
// Per call CPU time; the minimum is the steadiest figure on a shared machine, the median is printed too.
const time = (name: string, f: () => unknown) => {
  for (let i = 0; i < 5; i++) f(); // warm-up (JIT)
  const runs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const c = cpu();
    f();
    runs.push(cpu() - c);
  }
  runs.sort((a, b) => a - b);
  console.log(`${name}: min ${runs[0].toFixed(2)}, median ${runs[runs.length >> 1].toFixed(2)} ms CPU`);
};
const cropped = cropByRates(image, { left: 0.06, right: 0.06, top: 0.2, bottom: 0.12 }).image;
const equalised = clahe(cropped, { clip: 2, tilesX: 8, tilesY: 8 });
time(`crop ${image.width}x${image.height} -> ${cropped.width}x${cropped.height}`, () => cropByRates(image, { left: 0.06, right: 0.06, top: 0.2, bottom: 0.12 }));
time('clahe clip 2, 8x8', () => clahe(cropped, { clip: 2, tilesX: 8, tilesY: 8 }));
time(`resize area -> 512x512`, () => resizeArea(equalised, 512, 512));
time(`resize area 1/2 (${image.width}x${image.height} -> ${image.width >> 1}x${image.height >> 1})`, () => resizeArea(image, image.width >> 1, image.height >> 1));
