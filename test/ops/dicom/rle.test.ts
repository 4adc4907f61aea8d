import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRleFrame, packBitsRow, unpackBits } from '../../../src/ops/dicom/rle.ts';

test('packBitsRow codes hand-checked runs', () => {
  const out: number[] = [];
  packBitsRow(Uint8Array.from([7, 7, 7, 1, 2, 3, 9, 9]), out);
  // replicate 3x7 -> (257-3)=254,7 ; literal 1,2,3 -> 2,1,2,3 ; replicate 2x9 -> 255,9
  assert.deepEqual(out, [254, 7, 2, 1, 2, 3, 255, 9]);
  const single: number[] = [];
  packBitsRow(Uint8Array.from([5]), single);
  assert.deepEqual(single, [0, 5]);
});

test('packBitsRow splits runs longer than 128', () => {
  const out: number[] = [];
  packBitsRow(new Uint8Array(130).fill(4), out);
  assert.deepEqual(out, [129, 4, 255, 4]);
  assert.deepEqual([...unpackBits(Uint8Array.from(out), 130)], new Array(130).fill(4));
});

test('encodeRleFrame: header offsets and high-byte-first segments', () => {
  // 2x2 16-bit samples 0x0102, 0x0102, 0x0304, 0x0506 (little-endian bytes).
  const bytes = Uint8Array.from([0x02, 0x01, 0x02, 0x01, 0x04, 0x03, 0x06, 0x05]);
  const frame = encodeRleFrame(bytes, 2, 2, 2);
  const view = new DataView(frame.buffer);
  assert.equal(view.getUint32(0, true), 2);
  const first = view.getUint32(4, true);
  const second = view.getUint32(8, true);
  assert.equal(first, 64);
  // High bytes: rows [1,1] and [3,5]: 255,1 | 1,3,5 -> 5 bytes padded to 6.
  assert.deepEqual([...frame.subarray(first, second)], [255, 1, 1, 3, 5, 0]);
  assert.deepEqual([...unpackBits(frame.subarray(second), 4)], [2, 2, 4, 6]);
});
