/**
 * Where the time goes on our side of the preprocess bench: CPU ms per image for each step (PNG decode,
 * crop, CLAHE, area resize, PNG encode), in-process, over the bench images (two passes, the second
 * reported). The OpenCV twin is bench/preprocess_ops_opencv.py.
 * usage: node --import tsx bench/preprocess_ops.ts IN_DIR [PNG_LEVEL=1]
 */
import sharp from 'sharp';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clahe } from '../src/ops/image/clahe.ts';
import { cropByRates } from '../src/ops/image/crop.ts';
import { resizeArea } from '../src/ops/image/resize.ts';
import { decodeGrey } from '../src/ops/image/png.ts';
import { encodeGreyPng } from '../src/ops/image/png-encode.ts';

sharp.concurrency(1);
const [dir, levelArg] = process.argv.slice(2);
const level = Number(levelArg ?? 1);
const files = readdirSync(dir).filter((f) => f.endsWith('.png')).sort().map((n) => readFileSync(join(dir, n)));
const t = { decode: 0, crop: 0, clahe: 0, resize: 0, encode: 0 };
let bytes = 0;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
for (let pass = 0; pass < 2; pass++) {
  for (const k of Object.keys(t) as (keyof typeof t)[]) t[k] = 0;
  bytes = 0;
  for (const f of files) {
    let c = cpu();
    const lap = (k: keyof typeof t) => { const now = cpu(); t[k] += now - c; c = now; };
    const image = await decodeGrey(f); lap('decode');
    const cropped = cropByRates(image, { left: 0.06, right: 0.06, top: 0.2, bottom: 0.12 }).image; lap('crop');
    const equalised = clahe(cropped, { clip: 2, tilesX: 8, tilesY: 8 }); lap('clahe');
    const small = resizeArea(equalised, 512, 512); lap('resize');
    bytes += encodeGreyPng(small, level).length; lap('encode');
  }
}
const n = files.length;
const total = Object.values(t).reduce((a, b) => a + b, 0);
console.log(`ours   ms CPU/img: ${Object.entries(t).map(([k, v]) => `${k} ${(v / n).toFixed(2)}`).join(', ')}; total ${(total / n).toFixed(2)}; PNG ${(bytes / n / 1024).toFixed(1)} KiB/img`);
