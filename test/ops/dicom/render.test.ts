import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderFrame, roundHalfEven } from '../../../src/ops/dicom/render.ts';
import { testHeader } from './header-fixture.ts';
import { storedTransform } from '../../../src/ops/dicom/stored-values.ts';

const header = testHeader;
const frame = (values: number[]) => ({ rows: 1, columns: values.length, samples: 1, words: Int32Array.from(values), stored: (v: number) => v, integer: true });

test('numpy rounding: half to even', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 2.4, 2.6, 127.5].map(roundHalfEven), [0, 2, 2, 2, 3, 128]);
});

test('file window, 8-bit, MONOCHROME2 and MONOCHROME1 (inverted after rounding)', () => {
  const h = header({ windowCenters: [50], windowWidths: [11] });
  // LINEAR c=50 w=11 over [0, 255]: 0, 12.75, 140.25, 255
  assert.deepEqual([...renderFrame(frame([0, 45, 50, 100]), h, { window: 'auto', bits: 8 }).pixels], [0, 13, 140, 255]);
  const mono1 = renderFrame(frame([0, 45, 50, 100]), { ...h, photometric: 'MONOCHROME1' }, { window: 'auto', bits: 8 });
  assert.deepEqual([...mono1.pixels], [255, 242, 115, 0]);
});

test('min-max after rescale, 8- and 16-bit', () => {
  const h = header({ rescaleSlope: 2, rescaleIntercept: -5 });
  // modality values 15, 35, 55, 75 -> (v - 15) / 60
  assert.deepEqual([...renderFrame(frame([10, 20, 30, 40]), h, { window: 'minmax', bits: 8 }).pixels], [0, 85, 170, 255]);
  assert.deepEqual([...renderFrame(frame([10, 20, 30, 40]), h, { window: 'auto', bits: 16 }).pixels], [0, 21845, 43690, 65535]);
  assert.deepEqual([...renderFrame(frame([10, 20, 30]), header({}), { window: 'minmax', bits: 8 }).pixels], [0, 128, 255]);
});

test('percentile window clips the tails', () => {
  // values 0..100: the 10th and 90th percentiles are 10 and 90
  const values = Array.from({ length: 101 }, (_, i) => i);
  const out = renderFrame(frame(values), header({}), { window: { percentile: { low: 10, high: 90 } }, bits: 8 });
  assert.equal(out.pixels[0], 0);
  assert.equal(out.pixels[10], 0);
  assert.equal(out.pixels[50], 128); // (50 - 10) / 80 * 255 = 127.5 -> 128
  assert.equal(out.pixels[90], 255);
  assert.equal(out.pixels[100], 255);
});

test('explicit window params override the file; "file" without a window is an error', () => {
  const h = header({ windowCenters: [200], windowWidths: [10] });
  const out = renderFrame(frame([0, 50, 100]), h, { window: { center: 50, width: 10, function: 'LINEAR_EXACT' }, bits: 8 });
  assert.deepEqual([...out.pixels], [0, 128, 255]);
  assert.throws(() => renderFrame(frame([1, 2]), header({}), { window: 'file', bits: 8 }), /window: file requested but the file has no VOI LUT Sequence/);
});

test('a constant image renders black instead of dividing by zero', () => {
  assert.deepEqual([...renderFrame(frame([7, 7, 7]), header({}), { window: 'minmax', bits: 8 }).pixels], [0, 0, 0]);
});

test('16-bit words are masked to Bits Stored and sign-extended through the table', () => {
  const h = header({ bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 1 });
  // words 0xF000 | 0x800 (overlay bits + -2048), 0x0000, 0x07FF (2047): min-max over stored -2048..2047
  const words = Uint16Array.from([0xf800, 0x0000, 0x07ff]);
  const out = renderFrame({ rows: 1, columns: 3, samples: 1, words, stored: storedTransform(h), integer: true }, h, { window: 'minmax', bits: 8 });
  assert.deepEqual([...out.pixels], [0, 128, 255]); // 2048 / 4095 * 255 = 127.53
});
