import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cropByRates, rectFromRates } from '../../../src/ops/image/crop.ts';
import { findContentRect } from '../../../src/ops/image/autocrop.ts';
import { invert } from '../../../src/ops/image/invert.ts';
import { grey16, grey8, toRows } from './helpers.ts';

test('cropByRates cuts rounded pixel counts per side', () => {
  const img = grey8([
    [1, 2, 3, 4, 5],
    [6, 7, 8, 9, 10],
    [11, 12, 13, 14, 15],
    [16, 17, 18, 19, 20],
  ]);
  // left .2*5 = 1, right .4*5 = 2, top .25*4 = 1, bottom 0
  const { image, rect } = cropByRates(img, { left: 0.2, right: 0.4, top: 0.25, bottom: 0 });
  assert.deepEqual(rect, { x: 1, y: 1, width: 2, height: 3 });
  assert.deepEqual(toRows(image), [[7, 8], [12, 13], [17, 18]]);
  assert.throws(() => rectFromRates(10, 10, { left: 0.5, right: 0.5, top: 0, bottom: 0 }), /leave nothing/);
});

test('findContentRect finds uniform borders from the centre outward, ignoring specks in the border', () => {
  const img = grey8([
    [0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 255], // a speck in the top border row: the row is not uniform...
    [0, 0, 0, 0, 0, 0], // ...but this uniform row stops the scan first
    [0, 5, 9, 7, 3, 0],
    [0, 4, 8, 6, 2, 0],
    [0, 0, 0, 0, 0, 0],
  ]);
  assert.deepEqual(findContentRect(img, { tolerance: 0 }), { x: 1, y: 3, width: 4, height: 2 });
  // tolerance 9 makes content rows uniform too: nothing found at the centre, so keep everything
  assert.deepEqual(findContentRect(img, { tolerance: 9 }).height, 6);
});

test('invert maps v to max - v for 8 and 16 bits', () => {
  assert.deepEqual(toRows(invert(grey8([[0, 1, 255]]))), [[255, 254, 0]]);
  assert.deepEqual(toRows(invert(grey16([[0, 1000, 65535]]))), [[65535, 64535, 0]]);
});
