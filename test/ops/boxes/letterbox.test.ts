import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { fromLetterbox, letterbox, toLetterbox } from '../../../src/ops/boxes/letterbox.ts';
import { decodeLetterboxed } from '../../../src/ml/detection/letterbox-image.ts';

test('letterbox: whole-pixel scaled size, centred padding, boxes map both ways exactly', () => {
  const g = letterbox(640, 480, 256);
  assert.deepEqual([g.scaledWidth, g.scaledHeight, g.dx, g.dy], [256, 192, 0, 32]);
  assert.equal(g.sx, 0.4);
  const odd = letterbox(333, 517, 96); // 333 * 96/517 = 61.8 -> 62 whole pixels, its own factor per axis
  assert.deepEqual([odd.scaledWidth, odd.scaledHeight, odd.dx, odd.dy], [62, 96, 17, 0]);
  assert.equal(odd.sx, 62 / 333);
  for (const [geometry, box] of [[g, { label: 'a', x_min: 10.25, y_min: 3, x_max: 639, y_max: 480 }], [odd, { label: 'b', x_min: 0, y_min: 0.5, x_max: 333, y_max: 17 }]] as const) {
    const there = toLetterbox(box, geometry);
    // the image's corners land on the scaled image's corners
    assert.deepEqual(toLetterbox({ x_min: 0, y_min: 0, x_max: geometry.width, y_max: geometry.height }, geometry), { x_min: geometry.dx, y_min: geometry.dy, x_max: geometry.dx + geometry.scaledWidth, y_max: geometry.dy + geometry.scaledHeight });
    const back = fromLetterbox(there, geometry);
    for (const k of ['x_min', 'y_min', 'x_max', 'y_max'] as const) assert.ok(Math.abs(back[k] - box[k]) < 1e-9, `${k}: ${back[k]} vs ${box[k]}`);
    assert.equal(back.label, box.label);
  }
  // predictions over the padding are clipped to the image
  assert.deepEqual(fromLetterbox({ x_min: -5, y_min: 0, x_max: 300, y_max: 250 }, g), { x_min: 0, y_min: 0, x_max: 640, y_max: 480 });
});

test('letterboxed pixels: the image fills the scaled area, the padding is black, a box still covers its pixels', async () => {
  // 16 x 8 grey image, a white block on pixels x 4..7, y 2..5; letterboxed to 32: factor 2, padding 8 rows top and bottom
  const raw = Buffer.alloc(16 * 8, 100);
  for (let y = 2; y < 6; y++) for (let x = 4; x < 8; x++) raw[y * 16 + x] = 255;
  const png = await sharp(raw, { raw: { width: 16, height: 8, channels: 1 } }).png().toBuffer();
  const { raster, geometry } = await decodeLetterboxed(png, 32, 1);
  assert.deepEqual([geometry.dx, geometry.dy, geometry.sx, geometry.sy], [0, 8, 2, 2]);
  const at = (x: number, y: number) => raster.data[y * 32 + x];
  for (let x = 0; x < 32; x++) for (const y of [0, 7, 24, 31]) assert.equal(at(x, y), 0, `padding at ${x},${y}`);
  const box = toLetterbox({ x_min: 4, y_min: 2, x_max: 8, y_max: 6 }, geometry); // [8, 12) x [12, 16)
  assert.deepEqual(box, { x_min: 8, y_min: 12, x_max: 16, y_max: 20 });
  // interior of the mapped box is white, pixels three away from it are the background (Lanczos resampling rings two pixels)
  for (let y = 13; y < 19; y++) for (let x = 9; x < 15; x++) assert.ok(at(x, y) > 0.95, `inside ${x},${y}: ${at(x, y)}`);
  for (const [x, y] of [[4, 15], [19, 15], [12, 8], [12, 23]]) assert.ok(Math.abs(at(x, y) - 100 / 255) < 0.03, `outside ${x},${y}: ${at(x, y)}`);
});
