/**
 * Our side of the preprocess bench: the preprocess stage's per-image work (`processPng`: our PNG
 * decoder, crop, CLAHE, area resize, our PNG encoder) over a folder, one image at a time, sharp (used for other formats) on one
 * thread.
 * usage: node --import tsx bench/preprocess.ts IN_DIR OUT_DIR [PNG_LEVEL=1]; prints images per CPU-second and
 * per wall second. PNG_LEVEL is the stage's `png_compression` (its default 1).
 */
import sharp from 'sharp';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OpSpec } from '../src/ops/image/apply.ts';
import { processPng } from '../src/ops/image/process-png.ts';

sharp.concurrency(1);
const [src, out, levelArg] = process.argv.slice(2);
const level = Number(levelArg ?? 1);
const ops: OpSpec[] = [
  { crop: { left: 0.06, right: 0.06, top: 0.2, bottom: 0.12 } },
  { clahe: { clip: 2, tiles: 8 } },
  { resize: { width: 512, height: 512, fit: 'stretch', interpolation: 'area', pad_value: 0 } },
];
await mkdir(out, { recursive: true });
const names = (await readdir(src)).filter((f) => f.endsWith('.png')).sort();
const one = async (name: string) => {
  const result = await processPng(await readFile(join(src, name)), ops, level);
  await writeFile(join(out, name), result.png);
};
// Warm-up (JIT) on two images, untimed, as the OpenCV script does.
for (const name of names.slice(0, 2)) await one(name);
const start = performance.now();
const cpu0 = process.cpuUsage();
for (const name of names) await one(name);
const cpu = process.cpuUsage(cpu0);
const wall = (performance.now() - start) / 1000;
// Images per CPU-second (all threads of the process: the fair per-core measure on a shared machine), and per wall second.
console.log(`${(names.length / ((cpu.user + cpu.system) / 1e6)).toFixed(3)} ${(names.length / wall).toFixed(3)}`);
