import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRleFrame } from '../../../../src/ops/dicom/decode/rle.ts';
import { encodeRleFrame } from '../../../../src/ops/dicom/rle.ts';

function frame(segments: number[][]): Uint8Array {
  const header = new DataView(new ArrayBuffer(64));
  header.setUint32(0, segments.length, true);
  let offset = 64;
  segments.forEach((s, i) => {
    header.setUint32(4 + 4 * i, offset, true);
    offset += s.length;
  });
  return Uint8Array.from([...new Uint8Array(header.buffer), ...segments.flat()]);
}

test('PackBits literal and replicate runs (Annex G.3.1)', () => {
  // 0x02: 3 literal bytes; 0xfe (-2): the next byte 3 times; 0x80 (-128) is a no-op.
  const f = frame([[0x02, 1, 2, 3, 0x80, 0xfe, 9]]);
  assert.deepEqual([...decodeRleFrame(f, 2, 3, 1, 8)], [1, 2, 3, 9, 9, 9]);
});

test('16-bit: the most significant byte plane comes first; output is little-endian', () => {
  const f = frame([[0x01, 0x12, 0xab], [0x01, 0x34, 0xcd]]);
  assert.deepEqual([...new Uint16Array(decodeRleFrame(f, 1, 2, 1, 16).buffer)], [0x1234, 0xabcd]);
});

test("round trip with the writer's RLE encoder", () => {
  const values = Uint16Array.from({ length: 7 * 9 }, (_, i) => (i % 5 < 2 ? 4095 : (i * 2654435761) % 4096));
  const bytes = new Uint8Array(values.buffer);
  const decoded = decodeRleFrame(encodeRleFrame(bytes, 7, 9, 2), 7, 9, 1, 16);
  assert.deepEqual([...decoded], [...bytes]);
});

test('bad RLE frames are errors with the reason', () => {
  assert.throws(() => decodeRleFrame(new Uint8Array(10), 1, 1, 1, 8), /shorter than its 64-byte header/);
  assert.throws(() => decodeRleFrame(frame([[0x00, 1], [0x00, 2]]), 1, 1, 1, 8), /2 segments, expected 1/);
  assert.throws(() => decodeRleFrame(frame([[0x00, 1]]), 2, 2, 1, 8), /decoded 1 of 4 bytes/);
});
