import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clahe } from '../../../src/ops/image/clahe.ts';
import { cropByRates } from '../../../src/ops/image/crop.ts';
import type { Image } from '../../../src/ops/image/image.ts';
import { invert } from '../../../src/ops/image/invert.ts';
import { medianBlur } from '../../../src/ops/image/median.ts';
import { decodeGrey } from '../../../src/ops/image/png.ts';
import { resizeLanczos4 } from '../../../src/ops/image/resize-lanczos.ts';
import { resizeArea, resizeBilinear } from '../../../src/ops/image/resize.ts';
import { synthetic } from './helpers.ts';
import { NIH_FIXTURES } from '../../support/fixtures.ts';
import { DEBIAN_PYTHON, needs } from '../../support/reference-tools.ts';

const PYTHON = DEBIAN_PYTHON;
const NIH = `${NIH_FIXTURES}/images`;
const here = new URL('.', import.meta.url).pathname;

interface Job { name: string; image: Image; op: string; args: Record<string, unknown>; ours: Image }
interface Diff { mean: number; max: number; n: number }

/** Runs every job through OpenCV in one python process; returns OpenCV's outputs. */
function opencv(jobs: Job[]): Image[] {
  const dir = mkdtempSync(join(tmpdir(), 'opencv-ref-'));
  const spec = jobs.map((job, i) => {
    const input = join(dir, `in${i}.raw`);
    writeFileSync(input, Buffer.from(job.image.data.buffer, job.image.data.byteOffset, job.image.data.byteLength));
    const bits = job.image.data instanceof Uint16Array ? 16 : 8;
    return { input, output: join(dir, `out${i}.raw`), bits, width: job.image.width, height: job.image.height, op: job.op, args: job.args };
  });
  writeFileSync(join(dir, 'jobs.json'), JSON.stringify(spec));
  const run = spawnSync(PYTHON, [join(here, 'opencv_ref.py'), join(dir, 'jobs.json')], { encoding: 'utf8' });
  assert.equal(run.status, 0, `OpenCV reference failed (needs Debian python3-opencv python3-numpy): ${run.stderr}${run.error ?? ''}`);
  const shapes = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { width: number; height: number });
  return spec.map((s, i) => {
    const bytes = readFileSync(s.output);
    const data = s.bits === 16 ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2) : new Uint8Array(bytes);
    return { data, width: shapes[i].width, height: shapes[i].height, channels: 1 };
  });
}

async function sharpClahe(img: Image, tiles: number, clip: number): Promise<Image> {
  const { data } = await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 1 } })
    .clahe({ width: Math.ceil(img.width / tiles), height: Math.ceil(img.height / tiles), maxSlope: clip })
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: img.width, height: img.height, channels: 1 };
}

function diff(a: Image, b: Image): Diff {
  assert.deepEqual([a.width, a.height], [b.width, b.height]);
  let sum = 0, max = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i] - b.data[i]);
    sum += d;
    if (d > max) max = d;
  }
  return { mean: sum / a.data.length, max, n: a.data.length };
}

function summarise(diffs: Diff[]): Diff {
  const n = diffs.reduce((s, d) => s + d.n, 0);
  return { mean: diffs.reduce((s, d) => s + d.mean * d.n, 0) / n, max: Math.max(...diffs.map((d) => d.max)), n };
}

function checkerboard(width: number, height: number, bits: 8 | 16): Image {
  const max = bits === 16 ? 65535 : 255;
  const data = bits === 16 ? new Uint16Array(width * height) : new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = (((i % width) >> 1) + (Math.floor(i / width) >> 1)) & 1 ? max : 0;
  return { data, width, height, channels: 1 };
}

async function nihImages(count: number): Promise<Image[]> {
  const names = readdirSync(NIH).filter((f) => f.endsWith('.png')).sort().slice(0, count);
  assert.equal(names.length, count, `expected ${count} NIH images under ${NIH}`);
  return Promise.all(names.map(async (n) => decodeGrey(readFileSync(join(NIH, n)))));
}

test('image ops match OpenCV / numpy on real NIH X-rays and synthetic 8/16-bit images', { skip: needs('opencv', 'numpy') }, async (t) => {
  const nih = await nihImages(40);
  const big8 = synthetic(1024, 1024, 8, 7);
  const odd8 = synthetic(500, 375, 8, 3); // tile grid does not divide it: reflect-101 padding
  const big16 = synthetic(600, 452, 16, 5);
  const jobs: Job[] = [];
  const add = (name: string, image: Image, op: string, args: Record<string, unknown>, ours: Image) => jobs.push({ name, image, op, args, ours });
  const claheCases = [
    { clip: 2, tilesX: 8, tilesY: 8 },
    { clip: 4, tilesX: 7, tilesY: 5 },
  ];
  for (const a of claheCases) {
    for (const img of nih) add(`clahe ${a.clip}/${a.tilesX}x${a.tilesY} nih64`, img, 'clahe', a, clahe(img, a));
    add(`clahe ${a.clip}/${a.tilesX}x${a.tilesY} synthetic 1024 8-bit`, big8, 'clahe', a, clahe(big8, a));
    add(`clahe ${a.clip}/${a.tilesX}x${a.tilesY} synthetic 500x375 8-bit`, odd8, 'clahe', a, clahe(odd8, a));
    add(`clahe ${a.clip}/${a.tilesX}x${a.tilesY} synthetic 600x452 16-bit`, big16, 'clahe', a, clahe(big16, a));
  }
  // For the docs: sharp's own clahe (libvips hist_local) against OpenCV with the same tile size and limit.
  const claheOpts = { clip: 2, tilesX: 8, tilesY: 8 };
  for (const img of [...nih, big8]) add(`sharp clahe 2/8x8 ${img.width}px`, img, 'clahe', claheOpts, await sharpClahe(img, 8, 2));
  const rates = { left: 0.06, right: 0.06, top: 0.2, bottom: 0.12 };
  for (const img of [...nih.slice(0, 5), big8, big16]) {
    const tag = `${img.width}x${img.height}/${img.data instanceof Uint16Array ? 16 : 8}`;
    add(`crop ${tag}`, img, 'crop', rates, cropByRates(img, rates).image);
    add(`invert ${tag}`, img, 'invert', {}, invert(img));
    add(`median 3 ${tag}`, img, 'median', { size: 3 }, medianBlur(img, 3));
    add(`median 5 ${tag}`, img, 'median', { size: 5 }, medianBlur(img, 5));
    for (const [w, h] of [[Math.round(img.width / 2), Math.round(img.height / 2)], [Math.round(img.width * 0.37), Math.round(img.height * 0.41)]]) {
      add(`resize area ${tag}`, img, 'resize', { width: w, height: h, interpolation: 'area' }, resizeArea(img, w, h));
      // OpenCV's whole-block path (integer factors other than 2x2): 4x2 blocks, float32 scale, half to even.
      if (w === img.width / 2 && img.width % 4 === 0) add(`resize area ${tag}`, img, 'resize', { width: img.width / 4, height: h, interpolation: 'area' }, resizeArea(img, img.width / 4, h));
      add(`resize bilinear ${tag}`, img, 'resize', { width: w, height: h, interpolation: 'bilinear' }, resizeBilinear(img, w, h));
    }
  }
  // Lanczos both ways: ½, ⅓ (source positions exactly on pixels), ×0.37/0.41, ×2 and ×1.37/1.61.
  const lanczosSizes = (img: Image) => [
    ['down ½', 0.5, 0.5], ['down ⅓', 1 / 3, 1 / 3], ['down 0.37×0.41', 0.37, 0.41], ['up 2', 2, 2], ['up 1.37×1.61', 1.37, 1.61],
  ].map(([what, fx, fy]) => [what, Math.round(img.width * +fx), Math.round(img.height * +fy)] as const);
  // Hard edges: 2x2 black/white checkerboards overshoot both ways, so saturation and negative sums are hit.
  const checkers = ([8, 16] as const).map((bits) => checkerboard(97, 61, bits));
  for (const img of [...nih, big8, odd8, big16, ...checkers]) {
    const bits = img.data instanceof Uint16Array ? 16 : 8;
    const source = img.width === 64 ? 'nih64' : `${img.width === 97 ? 'checkerboard' : 'synthetic'} ${img.width}x${img.height}`;
    for (const [what, w, h] of lanczosSizes(img)) {
      add(`resize lanczos ${what} ${source} ${bits}-bit`, img, 'resize', { width: w, height: h, interpolation: 'lanczos' }, resizeLanczos4(img, w, h));
    }
  }
  const refs = opencv(jobs);
  const byName = new Map<string, Diff[]>();
  jobs.forEach((job, i) => byName.set(job.name, [...(byName.get(job.name) ?? []), diff(job.ours, refs[i])]));
  const results = new Map([...byName].map(([name, d]) => [name, summarise(d)]));
  for (const [name, d] of results) t.diagnostic(`${name}: mean abs diff ${d.mean.toFixed(4)}, max ${d.max} (${d.n} px)`);
  for (const [name, d] of results) {
    if (name.startsWith('crop') || name.startsWith('invert') || name.startsWith('median')) assert.equal(d.max, 0, `${name} must equal numpy/OpenCV exactly`);
    else if (name.startsWith('resize area') || name.startsWith('resize lanczos') || name.startsWith('clahe')) assert.equal(d.max, 0, `${name} must equal OpenCV exactly`);
    else if (name.startsWith('resize bilinear')) assert.ok(d.max <= 1, `${name}: max diff ${d.max} > 1`);
    else if (name.startsWith('sharp clahe')) {
      assert.ok(d.mean > 1, 'libvips hist_local is a different algorithm; if it matched, use it');
    }
  }
});
