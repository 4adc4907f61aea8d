import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileVoi, voiLutTransform, windowFunction, windowOutputRange, windowProblem } from '../../../src/ops/dicom/voi-lut.ts';
import type { DicomHeader } from '../../../src/ops/dicom/parse.ts';
import { testHeader } from './header-fixture.ts';

const range = { min: 0, max: 255 };
const near = (values: number[]) => values.map((v) => Math.round(v * 1e9) / 1e9);

test('LINEAR window uses c - 0.5 and w - 1 (PS3.3 C.11.2.1.2.1)', () => {
  const f = windowFunction({ center: 50, width: 11, fn: 'LINEAR' }, range);
  // c' = 49.5, w' = 10: x <= 44.5 -> min, x > 54.5 -> max, else ((x - 49.5) / 10 + 0.5) * 255
  assert.deepEqual(near([44, 44.5, 45, 50, 54.5, 55].map(f)), [0, 0, 12.75, 140.25, 255, 255]);
});

test('LINEAR_EXACT window uses c and w as given', () => {
  const f = windowFunction({ center: 50, width: 10, fn: 'LINEAR_EXACT' }, range);
  assert.deepEqual(near([45, 47.5, 50, 55, 56].map(f)), [0, 63.75, 127.5, 255, 255]);
});

test('SIGMOID window: range / (1 + exp(-4 (x - c) / w))', () => {
  const f = windowFunction({ center: 50, width: 10, fn: 'SIGMOID' }, { min: -100, max: 100 });
  assert.equal(f(50), 0);
  // 200 / (1 + e^-2) - 100 = 200 * 0.8807970779778823 - 100
  assert.ok(Math.abs(f(55) - 76.15941559557646) < 1e-9);
  assert.ok(Math.abs(f(45) + 76.15941559557646) < 1e-9);
});

test('window width limits: LINEAR needs >= 1, the others > 0', () => {
  assert.match(windowProblem({ center: 0, width: 0.5, fn: 'LINEAR' })!, /< 1/);
  assert.equal(windowProblem({ center: 0, width: 0.5, fn: 'LINEAR_EXACT' }), undefined);
  assert.match(windowProblem({ center: 0, width: 0, fn: 'SIGMOID' })!, /<= 0/);
  assert.throws(() => windowFunction({ center: 0, width: 0, fn: 'LINEAR' }, range), /LINEAR window width 0 < 1/);
});

test("windowing output range follows pydicom: bits stored, sign, rescale, Modality LUT depth", () => {
  assert.deepEqual(windowOutputRange({ bitsStored: 12, pixelRepresentation: 0 }), { min: 0, max: 4095 });
  assert.deepEqual(windowOutputRange({ bitsStored: 12, pixelRepresentation: 1 }), { min: -2048, max: 2047 });
  assert.deepEqual(windowOutputRange({ bitsStored: 12, pixelRepresentation: 1, rescaleSlope: 2, rescaleIntercept: -100 }), { min: -4196, max: 3994 });
  const modalityLut = { entries: 3, firstMapped: 0, bitsPerEntry: 10, data: new Uint16Array(3) };
  assert.deepEqual(windowOutputRange({ bitsStored: 16, pixelRepresentation: 0, modalityLut }), { min: 0, max: 1023 });
});

test('VOI LUT Sequence lookup clamps below the first mapped value and above the last entry', () => {
  const voi = voiLutTransform({ entries: 3, firstMapped: 10, bitsPerEntry: 12, data: Uint16Array.from([100, 2000, 4095]) });
  assert.deepEqual([0, 10, 11, 12, 13, 5000].map(voi.apply), [100, 100, 2000, 4095, 4095, 4095]);
  assert.deepEqual(voi.range, { min: 0, max: 4095 });
});

const header = (extra: Partial<DicomHeader>) => testHeader({ bitsAllocated: 16, bitsStored: 12, highBit: 11, ...extra });

test("the file's VOI: LUT Sequence wins over the window; unusable windows are reported", () => {
  const lut = { entries: 2, firstMapped: 0, bitsPerEntry: 8, data: Uint16Array.from([0, 255]) };
  assert.match(fileVoi(header({ voiLuts: [lut], windowCenters: [1], windowWidths: [2] })).voi!.describe, /VOI LUT Sequence/);
  assert.match(fileVoi(header({ windowCenters: [40, 80], windowWidths: [400, 800], voiLutFunction: 'SIGMOID' })).voi!.describe, /window\[0\] SIGMOID c=40 w=400/);
  assert.match(fileVoi(header({ windowCenters: [40], windowWidths: [0] })).problem!, /unusable/);
  assert.match(fileVoi(header({})).problem!, /no VOI LUT Sequence/);
  assert.throws(() => fileVoi(header({ windowCenters: [1], windowWidths: [2], voiLutFunction: 'GAMMA' })), /unsupported VOI LUT Function/);
});
