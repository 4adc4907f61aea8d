import { test } from 'node:test';
import assert from 'node:assert/strict';
import { greyValues, isMonochrome } from '../../../src/ops/dicom/photometric.ts';

const rgbFrame = (values: number[]) => ({ rows: 1, columns: values.length / 3, samples: 3, words: Uint8Array.from(values), stored: (v: number) => v });

test('RGB (and codec output decoded to RGB) becomes Rec. 601 luma', () => {
  // 0.299 R + 0.587 G + 0.114 B: white 255, pure red 76.245 -> 76, pure green 149.685 -> 150, pure blue 29.07 -> 29
  const frame = rgbFrame([255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255]);
  assert.deepEqual([...greyValues(frame, 'RGB', false)], [255, 76, 150, 29]);
  assert.deepEqual([...greyValues(frame, 'YBR_FULL_422', true)], [255, 76, 150, 29]);
});

test('native YBR_FULL keeps Y; other colour models are an error; monochrome passes through', () => {
  assert.deepEqual([...greyValues(rgbFrame([10, 128, 128, 200, 90, 160]), 'YBR_FULL', false)], [10, 200]);
  assert.throws(() => greyValues(rgbFrame([1, 2, 3]), 'YBR_FULL_422', false), /YBR_FULL_422 is not supported for native pixel data/);
  const grey = { rows: 1, columns: 2, samples: 1, words: Int32Array.from([-5, 7]), stored: (v: number) => v };
  assert.deepEqual([...greyValues(grey, 'MONOCHROME2', false)], [-5, 7]);
  assert.deepEqual(['MONOCHROME1', 'MONOCHROME2', 'RGB', 'PALETTE COLOR'].map(isMonochrome), [true, true, false, false]);
});
