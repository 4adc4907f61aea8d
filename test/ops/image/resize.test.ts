import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pad, resizeArea, resizeBilinear, resizeGeometry } from '../../../src/ops/image/resize.ts';
import { medianBlur } from '../../../src/ops/image/median.ts';
import { grey8, toRows } from './helpers.ts';

test('resizeArea averages 2x2 blocks and weights partial pixels by overlap', () => {
  const img = grey8([
    [0, 4, 8, 8],
    [4, 8, 8, 8],
  ]);
  assert.deepEqual(toRows(resizeArea(img, 2, 1)), [[4, 8]]);
  // 3 -> 2 columns: out[0] = (10*1 + 20*.5)/1.5 = 13.33, out[1] = (20*.5 + 40)/1.5 = 33.33
  assert.deepEqual(toRows(resizeArea(grey8([[10, 20, 40]]), 2, 1)), [[13, 33]]);
});

test('resizeArea rounds as OpenCV: 2x2 blocks half up, other whole blocks half to even', () => {
  // 2x2 means 0.75 and 0.5 -> 1 and 1 ((sum + 2) >> 2, OpenCV's vector path)
  assert.deepEqual(toRows(resizeArea(grey8([[1, 2, 1, 1], [0, 0, 0, 0]]), 2, 1)), [[1, 1]]);
  // 2x1 blocks: sums 3, 1, 5 * 0.5f = 1.5, 0.5, 2.5 -> 2, 0, 2
  assert.deepEqual(toRows(resizeArea(grey8([[1, 2, 0, 1, 2, 3]]), 3, 1)), [[2, 0, 2]]);
  // 3x3 block: sum 4 * (1/9)f = 0.44 -> 0; sum 5 -> 0.56 -> 1
  const block = (n: number) => grey8([[n > 0 ? 1 : 0, n > 1 ? 1 : 0, n > 2 ? 1 : 0], [n > 3 ? 1 : 0, n > 4 ? 1 : 0, 0], [0, 0, 0]]);
  assert.deepEqual(toRows(resizeArea(block(4), 1, 1)), [[0]]);
  assert.deepEqual(toRows(resizeArea(block(5), 1, 1)), [[1]]);
});

test('resizeBilinear uses pixel-centre mapping and clamps at the edges', () => {
  // 2 -> 4: src x = (d + .5) * .5 - .5 = -.25, .25, .75, 1.25 -> 0, 25, 75, 100
  assert.deepEqual(toRows(resizeBilinear(grey8([[0, 100]]), 4, 1)), [[0, 25, 75, 100]]);
});

test('resizeGeometry keeps the aspect ratio and centres the content when padding', () => {
  assert.deepEqual(resizeGeometry(200, 100, 64, 64, 'pad'), { scaledWidth: 64, scaledHeight: 32, left: 0, top: 16, width: 64, height: 64 });
  assert.deepEqual(resizeGeometry(200, 100, 64, 64, 'stretch'), { scaledWidth: 64, scaledHeight: 64, left: 0, top: 0, width: 64, height: 64 });
  assert.deepEqual(toRows(pad(grey8([[7, 8]]), 4, 3, 1, 1, 9)), [[9, 9, 9, 9], [9, 7, 8, 9], [9, 9, 9, 9]]);
});

test('medianBlur takes the window median with replicated edges', () => {
  const img = grey8([
    [1, 2, 3],
    [4, 100, 6],
    [7, 8, 9],
  ]);
  // centre: median of 1..9 with 100 instead of 5 -> 6; corner (0,0): window 1,1,2,1,1,2,4,4,100 -> 2
  const out = toRows(medianBlur(img, 3));
  assert.equal(out[1][1], 6);
  assert.equal(out[0][0], 2);
  assert.throws(() => medianBlur(img, 4), /odd/);
});
