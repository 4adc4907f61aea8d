import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmaxPixel, jet, overlayHeatmap, resizeMap } from '../../../src/ops/report/heatmap.ts';

test('jet runs blue → red', () => {
  assert.deepEqual(jet(0), [0, 0, 128]);
  assert.deepEqual(jet(0.5), [128, 255, 128]);
  assert.deepEqual(jet(1), [128, 0, 0]);
});

test('bilinear resize with corners aligned', () => {
  assert.deepEqual([...resizeMap(new Float32Array([0, 1, 2, 3]), 2, 2, 3, 3)], [0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3]);
});

test('overlay keeps grey pixels where the heat is 0', () => {
  const out = overlayHeatmap(new Uint8Array([100, 200]), new Float32Array([0, 1]), 0.5);
  assert.deepEqual([...out], [100, 100, 100, 164, 100, 100]);
  assert.deepEqual(argmaxPixel([0, 3, 1, 2], 2), { x: 1, y: 0 });
});
