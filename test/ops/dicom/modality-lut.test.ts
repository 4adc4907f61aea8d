import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyModalityLut, modalityTransform } from '../../../src/ops/dicom/modality-lut.ts';

test('rescale slope/intercept applies only when both are present', () => {
  assert.deepEqual([...applyModalityLut([0, 4, -6], { rescaleSlope: 0.5, rescaleIntercept: -10 })], [-10, -8, -13]);
  assert.deepEqual([...applyModalityLut([0, 4], {})], [0, 4]);
});

test('a Modality LUT Sequence wins over rescale and clamps like pydicom', () => {
  const lut = { entries: 3, firstMapped: 10, bitsPerEntry: 16, data: Uint16Array.from([5, 6, 7]) };
  const f = modalityTransform({ modalityLut: lut, rescaleSlope: 2, rescaleIntercept: 1 });
  assert.deepEqual([3, 10, 11, 12, 99].map(f), [5, 5, 6, 7, 7]);
  const signed = modalityTransform({ modalityLut: { ...lut, firstMapped: -2 } });
  assert.deepEqual([-5, -2, -1, 0, 1].map(signed), [5, 5, 6, 7, 7]);
});
