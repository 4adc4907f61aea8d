import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DicomParseError, parseDicom } from '../../../src/ops/dicom/parse.ts';
import { decodeFrame, frameValues } from '../../../src/ops/dicom/decode/index.ts';
import { writeDicom } from '../../../src/ops/dicom/write.ts';

const pixels = Uint16Array.from({ length: 6 * 4 }, (_, i) => i * 100);
const file = writeDicom({ rows: 6, columns: 4, pixels, bitsStored: 12, rescale: { slope: 2, intercept: -5 }, window: { center: [100, 200], width: [50, 60] }, voiLutFunction: 'SIGMOID' });

test('reads the pixel header of a Part 10 file', async () => {
  const { header } = parseDicom(file);
  assert.equal(header.transferSyntax.uid, '1.2.840.10008.1.2.1');
  assert.deepEqual([header.rows, header.columns, header.bitsAllocated, header.bitsStored, header.highBit, header.pixelRepresentation], [6, 4, 16, 12, 11, 0]);
  assert.deepEqual([header.rescaleSlope, header.rescaleIntercept], [2, -5]);
  assert.deepEqual([header.windowCenters, header.windowWidths, header.voiLutFunction], [[100, 200], [50, 60], 'SIGMOID']);
  assert.equal(header.inferredTransferSyntax, false);
  assert.deepEqual([...frameValues(await decodeFrame(parseDicom(file), 0))], [...pixels]);
});

test('a file without the 128-byte preamble, with or without file meta information', async () => {
  const noPreamble = file.subarray(132); // starts with the (0002,xxxx) group
  assert.deepEqual([...frameValues(await decodeFrame(parseDicom(noPreamble), 0))], [...pixels]);
  const view = new DataView(file.buffer, file.byteOffset);
  const metaEnd = 132 + 12 + view.getUint32(132 + 8, true);
  const bare = parseDicom(file.subarray(metaEnd)); // explicit VR data set only: the syntax is inferred
  assert.equal(bare.header.inferredTransferSyntax, true);
  assert.equal(bare.header.transferSyntax.uid, '1.2.840.10008.1.2.1');
  assert.deepEqual([...frameValues(await decodeFrame(bare, 0))], [...pixels]);
});

test('clear errors for non-DICOM, truncated and pixel-less input', () => {
  assert.throws(() => parseDicom(new TextEncoder().encode('hello, this is not a DICOM file at all')), (e) => e instanceof DicomParseError && /not a DICOM file/.test(e.message));
  assert.throws(() => parseDicom(new Uint8Array(4)), /only 4 bytes/);
  assert.throws(() => parseDicom(file.subarray(0, file.length - 10)), /truncated/);
  assert.throws(() => parseDicom(file.subarray(0, 200)), /cannot parse DICOM|no pixel data|missing/);
});

test('unsupported transfer syntaxes are named when decoding', async () => {
  const bytes = new Uint8Array(file);
  const at = Buffer.from(bytes).indexOf('1.2.840.10008.1.2.1\0');
  bytes.set(Buffer.from('1.2.840.10008.1.2.4\0'), at); // not a real syntax: unknown
  await assert.rejects(decodeFrame(parseDicom(bytes), 0), /unsupported transfer syntax 1\.2\.840\.10008\.1\.2\.4 \(unknown transfer syntax/);
});

test('encapsulated Pixel Data of defined length (no sequence delimiter) decodes like the same items of undefined length', async () => {
  const { readFileSync } = await import('node:fs');
  const corpus = (name: string) => readFileSync(new URL(`../../fixtures/dicom-conformance/files/${name}`, import.meta.url));
  for (const name of ['jpeg-sv1-2frames-fragments-bot', 'j2k-lossless-u12-gdcm', 'rle-u16-dcmtk']) {
    const defined = parseDicom(corpus(`defined-length-${name}.dcm`));
    const original = parseDicom(corpus(`${name}.dcm`));
    assert.equal(defined.header.frames, original.header.frames);
    for (let f = 0; f < original.header.frames; f++) {
      assert.deepEqual(Array.from(frameValues(await decodeFrame(defined, f))), Array.from(frameValues(await decodeFrame(original, f))), `${name} frame ${f}`);
    }
  }
});
