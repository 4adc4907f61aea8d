import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colourToGrey, isMonochrome, luma } from '../../../src/ops/dicom/photometric.ts';
import { testHeader } from './header-fixture.ts';

const rgbFrame = (values: number[]) => ({ rows: 1, columns: values.length / 3, samples: 3, words: Uint8Array.from(values), stored: (v: number) => v, integer: true });
const h = (photometric: string) => testHeader({ photometric, samplesPerPixel: 3 });

test('RGB (and codec output decoded to RGB) becomes Rec. 601 luma', () => {
  // 0.299 R + 0.587 G + 0.114 B: white 255, pure red 76.245 -> 76, pure green 149.685 -> 150, pure blue 29.07 -> 29
  const frame = rgbFrame([255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255]);
  assert.deepEqual([...colourToGrey(frame, h('RGB'), false).values], [255, 76, 150, 29]);
  assert.deepEqual([...colourToGrey(frame, h('YBR_FULL_422'), true).values], [255, 76, 150, 29]);
  assert.equal(colourToGrey(frame, h('RGB'), false).max, 255);
});

test('luma rounds half to even, as numpy does (round half up would differ)', () => {
  // 0.299 * 0 + 0.587 * 0 + 0.114 * 125 = 14.25; find sums landing on exactly .5 and check both parities.
  const halves: Array<[number, number, number, number]> = [];
  for (let r = 0; r < 256 && halves.length < 200; r++) {
    for (let b = 0; b < 256; b++) {
      const sum = 0.299 * r + 0.587 * 0 + 0.114 * b;
      if (sum - Math.floor(sum) === 0.5) halves.push([r, 0, b, sum]);
    }
  }
  assert.ok(halves.some(([, , , s]) => Math.floor(s) % 2 === 0), 'a tie whose floor is even exists');
  for (const [r, g, b, s] of halves) assert.equal(luma(r, g, b), Math.floor(s) % 2 === 0 ? Math.floor(s) : Math.floor(s) + 1, `${r},${g},${b}`);
});

test('native YBR_FULL keeps Y; PALETTE COLOR goes through the palette; other colour models are errors', () => {
  assert.deepEqual([...colourToGrey(rgbFrame([10, 128, 128, 200, 90, 160]), h('YBR_FULL'), false).values], [10, 200]);
  assert.throws(() => colourToGrey(rgbFrame([1, 2, 3]), h('YBR_PARTIAL_420'), false), /YBR_PARTIAL_420 is not supported/);
  const palette = { entries: 3, firstMapped: 10, bits: 16, red: Uint16Array.from([0, 65535, 0]), green: Uint16Array.from([0, 0, 65535]), blue: Uint16Array.from([0, 0, 0]) };
  const indices = { rows: 1, columns: 5, samples: 1, words: Int32Array.from([5, 10, 11, 12, 99]), stored: (v: number) => v, integer: true };
  const grey = colourToGrey(indices, testHeader({ photometric: 'PALETTE COLOR', palette }), false);
  // below the first mapped value -> entry 0; above the last -> the last entry (pydicom's apply_color_lut)
  assert.deepEqual([...grey.values], [0, 0, luma(65535, 0, 0), luma(0, 65535, 0), luma(0, 65535, 0)]);
  assert.equal(grey.max, 65535);
  assert.deepEqual(['MONOCHROME1', 'MONOCHROME2', 'RGB', 'PALETTE COLOR'].map(isMonochrome), [true, true, false, false]);
});
