import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storedTransform, storedValues } from '../../../src/ops/dicom/stored-values.ts';

const le16 = (...words: number[]) => new Uint8Array(Uint16Array.from(words).buffer);

test('bits above Bits Stored are masked off (overlay bits, garbage)', () => {
  const h = { bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 0 };
  assert.deepEqual([...storedValues(le16(0xf123, 0x0fff, 0), h, 3)], [0x123, 4095, 0]);
});

test("two's complement values are sign-extended from Bits Stored", () => {
  const h = { bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 1 };
  assert.deepEqual([...storedValues(le16(0x0800, 0x0fff, 0xf7ff, 0x0001), h, 4)], [-2048, -1, 2047, 1]);
  const h16 = { bitsAllocated: 16, bitsStored: 16, highBit: 15, pixelRepresentation: 1 };
  assert.deepEqual([...storedValues(le16(0x8000, 0xffff, 0x7fff), h16, 3)], [-32768, -1, 32767]);
});

test('a High Bit above Bits Stored - 1 shifts the value down', () => {
  const h = { bitsAllocated: 16, bitsStored: 12, highBit: 15, pixelRepresentation: 0 };
  assert.deepEqual([...storedValues(le16(0x1230, 0xfff5), h, 2)], [0x123, 0xfff]);
});

test('8-bit samples and short input', () => {
  assert.deepEqual([...storedValues(Uint8Array.from([0, 200, 255]), { bitsAllocated: 8, bitsStored: 8, highBit: 7, pixelRepresentation: 0 }, 3)], [0, 200, 255]);
  assert.throws(() => storedValues(new Uint8Array(3), { bitsAllocated: 16, bitsStored: 16, highBit: 15, pixelRepresentation: 0 }, 2), /3 bytes, expected 4/);
});

test('storedTransform is the per-word form of storedValues', () => {
  const h = { bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 1 };
  const words = [0x0800, 0x0fff, 0xf7ff, 0x0001, 0xf123];
  assert.deepEqual(words.map(storedTransform(h)), [...storedValues(le16(...words), h, words.length)]);
  assert.deepEqual([0x1230, 0xfff5].map(storedTransform({ ...h, highBit: 15, pixelRepresentation: 0 })), [0x123, 0xfff]);
});
