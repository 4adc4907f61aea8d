import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clipBox, transformBoxes } from '../../../src/ops/boxes/transform.ts';

const box = (x_min: number, y_min: number, x_max: number, y_max: number) => ({ label: 'Nodule', x_min, y_min, x_max, y_max });

test('clipBox clips to the image and drops empty boxes', () => {
  assert.deepEqual(clipBox(box(-5, 2, 12, 8), 0, 0, 10, 10), box(0, 2, 10, 8));
  assert.equal(clipBox(box(12, 2, 15, 8), 0, 0, 10, 10), undefined);
  assert.equal(clipBox(box(3, 3, 3, 8), 0, 0, 10, 10), undefined, 'zero width');
});

test('transformBoxes follows crop then pad-resize, dropping boxes cropped away', () => {
  const steps = [
    { op: 'crop' as const, x: 10, y: 20, width: 100, height: 50 },
    // 100x50 -> 64x64 pad: scale .64, content 64x32 at top 16
    { op: 'scale' as const, sx: 0.64, sy: 0.64, dx: 0, dy: 16, width: 64, height: 64 },
  ];
  const out = transformBoxes([box(20, 30, 60, 40), box(0, 0, 5, 5), { ...box(100, 60, 200, 90), reader: 'R8' }], steps);
  assert.equal(out.length, 2);
  assert.deepEqual(out[0], box(6.4, 22.4, 32, 28.8));
  // second kept box: crop -> (90,40)-(100,50) clipped; scaled -> (57.6, 41.6)-(64, 48)
  assert.deepEqual(out[1], { ...box(57.6, 41.6, 64, 48), reader: 'R8' });
});
