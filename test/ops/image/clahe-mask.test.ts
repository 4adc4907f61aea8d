import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clahe, clipHistogram } from '../../../src/ops/image/clahe.ts';
import { findMarkers, maskRects } from '../../../src/ops/image/mask.ts';
import { grey8, synthetic, toRows } from './helpers.ts';

test('clipHistogram clips at the limit and redistributes the excess evenly then by step', () => {
  const h = Int32Array.from([10, 0, 0, 2]); // clip at 3: excess 7 -> 1 each (4), residual 3 at step 4/3|0=1
  clipHistogram(h, 3);
  assert.deepEqual(Array.from(h), [3 + 1 + 1, 0 + 1 + 1, 0 + 1 + 1, 2 + 1]);
  assert.equal(h.reduce((a, b) => a + b, 0), 12);
});

test('clahe with one tile and no clip is global histogram equalisation', () => {
  // 4 pixels: values 10, 10, 20, 30 -> cdf 2, 3, 4 of 4 -> lut = round(cdf * 255 / 4)
  const out = clahe(grey8([[10, 10], [20, 30]]), { clip: 0, tilesX: 1, tilesY: 1 });
  assert.deepEqual(toRows(out), [[128, 128], [191, 255]]);
});

test('maskRects fills with the ring mean; findMarkers finds small saturated blobs near borders only', () => {
  const img = grey8([
    [10, 10, 10, 10, 10, 10],
    [10, 255, 255, 10, 10, 10],
    [10, 10, 10, 10, 10, 10],
    [10, 10, 20, 20, 10, 10],
    [10, 10, 10, 10, 10, 10],
    [10, 10, 10, 10, 10, 10],
  ]);
  const found = findMarkers(img, { threshold: 0.98, maxArea: 0.1, border: 0.34, dilate: 0 });
  assert.deepEqual(found, [{ x: 1, y: 1, width: 2, height: 1 }]);
  const masked = maskRects(img, found, 1);
  // ring around (1..2, 1): 10 pixels at 10 plus (2,2)=10 ... all 10 -> 10
  assert.deepEqual(toRows(masked)[1], [10, 10, 10, 10, 10, 10]);
  assert.equal(findMarkers(img, { threshold: 0.98, maxArea: 0.01, border: 0.34, dilate: 0 }).length, 0, 'too big for maxArea 1%');
  // ring mean with a gradient: rect (1,1) 1x1 in a 3x3, ring = 8 neighbours
  const g = maskRects(grey8([[0, 8, 16], [8, 99, 24], [16, 24, 32]]), [{ x: 1, y: 1, width: 1, height: 1 }], 1);
  assert.equal(g.data[4], Math.round((0 + 8 + 16 + 8 + 24 + 16 + 24 + 32) / 8));
});

test('auto mask removes a burned-in label in a corner of a synthetic radiograph and leaves the anatomy', () => {
  const img = synthetic(200, 160, 8, 4);
  // "R" marker: a saturated 12x8 block of strokes near the top-left corner
  for (let y = 6; y < 14; y++) for (let x = 8; x < 20; x++) if ((x + y) % 3) img.data[y * 200 + x] = 255;
  // a bright but central structure (e.g. a pacemaker) of the same value must stay
  for (let y = 75; y < 85; y++) for (let x = 95; x < 105; x++) img.data[y * 200 + x] = 255;
  const rects = findMarkers(img, { threshold: 0.98, maxArea: 0.005, border: 0.15, dilate: 2 });
  assert.equal(rects.length, 1);
  assert.deepEqual(rects[0], { x: 6, y: 4, width: 16, height: 12 });
  const out = maskRects(img, rects, 3);
  let saturatedLeft = 0;
  for (let y = 0; y < 30; y++) for (let x = 0; x < 30; x++) if (out.data[y * 200 + x] >= 250) saturatedLeft++;
  assert.equal(saturatedLeft, 0);
  assert.equal(out.data[80 * 200 + 100], 255, 'central structure untouched');
});
