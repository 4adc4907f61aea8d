import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderDicom } from '../../../src/ops/dicom/convert.ts';
import { writeDicom, type DicomImageSpec } from '../../../src/ops/dicom/write.ts';
import { encodeJ2k, encodeJpegLs } from './encoders.ts';

const ROWS = 5;
const COLS = 7;
const N = ROWS * COLS;
const ramp = (lo: number, hi: number) => Array.from({ length: N }, (_, i) => Math.round(lo + ((hi - lo) * ((i * 7) % N)) / (N - 1)));

/** Every sample width and decoding path: native LE/BE 8/16/32-bit, signed, float, double, 1-bit, RLE, deflate, JPEG-LS, JPEG 2000. */
async function files(): Promise<Array<[string, Uint8Array]>> {
  const u16 = Uint16Array.from(ramp(0, 4095));
  const out: Array<[string, DicomImageSpec]> = [
    ['8-bit', { rows: ROWS, columns: COLS, pixels: Uint8Array.from(ramp(0, 255)) }],
    ['16-bit LE', { rows: ROWS, columns: COLS, pixels: u16, bitsStored: 12 }],
    ['16-bit BE', { rows: ROWS, columns: COLS, pixels: u16, bitsStored: 12, transferSyntax: 'explicit-be' }],
    ['16-bit signed', { rows: ROWS, columns: COLS, pixels: Int16Array.from(ramp(-2048, 2047)), bitsStored: 12 }],
    ['32-bit LE', { rows: ROWS, columns: COLS, pixels: Uint32Array.from(ramp(0, 4_000_000_000)) }],
    ['32-bit BE', { rows: ROWS, columns: COLS, pixels: Int32Array.from(ramp(-2_000_000_000, 2_000_000_000)), transferSyntax: 'explicit-be' }],
    ['float', { rows: ROWS, columns: COLS, pixels: Float32Array.from(ramp(-1000, 1000), (v) => v / 7) }],
    ['double BE', { rows: ROWS, columns: COLS, pixels: Float64Array.from(ramp(-1000, 1000), (v) => v / 7), transferSyntax: 'explicit-be' }],
    ['1-bit', { rows: ROWS, columns: COLS, pixels: Uint8Array.from(ramp(0, 1)), bitsAllocated: 1, bitsStored: 1 }],
    ['RLE 16-bit', { rows: ROWS, columns: COLS, pixels: u16, bitsStored: 12, transferSyntax: 'rle' }],
    ['RLE 32-bit', { rows: ROWS, columns: COLS, pixels: Uint32Array.from(ramp(0, 4_000_000_000)), transferSyntax: 'rle' }],
    ['deflate', { rows: ROWS, columns: COLS, pixels: u16, bitsStored: 12, transferSyntax: 'deflate' }],
    ['JPEG-LS', { rows: ROWS, columns: COLS, pixels: u16, bitsStored: 12, encapsulated: { transferSyntaxUid: '1.2.840.10008.1.2.4.80', frames: [await encodeJpegLs(u16, { width: COLS, height: ROWS, bitsPerSample: 12, componentCount: 1 })] } }],
    ['JPEG 2000', { rows: ROWS, columns: COLS, pixels: u16, bitsStored: 12, encapsulated: { transferSyntaxUid: '1.2.840.10008.1.2.4.90', frames: [await encodeJ2k(u16, { width: COLS, height: ROWS, bitsPerSample: 12, componentCount: 1 })] } }],
  ];
  return out.map(([name, spec]) => [name, writeDicom(spec)]);
}

test('typed-array views at any byte offset: the same rendering from a file starting at offsets 0..7 (all widths, all paths)', async () => {
  for (const [name, file] of await files()) {
    const reference = await renderDicom(file, { window: 'minmax', bits: 16, frames: 'first' });
    assert.ok(new Set(reference.frames[0].pixels).size > 1, `${name}: not a flat image`);
    for (let offset = 1; offset < 8; offset++) {
      // Inside a larger ArrayBuffer (as Buffer pool slices and file reads give them), as Buffer and as Uint8Array.
      const host = new Uint8Array(file.length + 16);
      host.set(file, offset);
      for (const view of [host.subarray(offset, offset + file.length), Buffer.from(host.buffer, offset, file.length)]) {
        const r = await renderDicom(view, { window: 'minmax', bits: 16, frames: 'first' });
        assert.deepEqual([...r.frames[0].pixels], [...reference.frames[0].pixels], `${name} at offset ${offset} (${view.constructor.name})`);
      }
    }
  }
});
