import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { decodeJpegDct } from '../../../../src/ops/dicom/decode/jpeg-dct.ts';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeFrame, frameValues } from '../../../../src/ops/dicom/decode/index.ts';
import { parseDicom } from '../../../../src/ops/dicom/parse.ts';
import { runPythonJson } from '../python.ts';
import { DICOM_FIXTURES } from '../../../support/fixtures.ts';
import { needs } from '../../../support/reference-tools.ts';

const JPLY = `${DICOM_FIXTURES}/pylibjpeg-data__JPEGExtended__RG2_JPLY.dcm`;

test('12-bit JPEG Extended: stored values equal pydicom + GDCM (libjpeg 12-bit) exactly', { skip: needs('pydicom', 'gdcm', 'numpy') }, async (t) => {
  const out = join(await mkdtemp(join(tmpdir(), 'jply-')), 'pixels.raw');
  const shape = runPythonJson<number[]>(
    `import sys, json, pydicom\na = pydicom.dcmread(sys.argv[1]).pixel_array\na.astype('<i4').tofile(sys.argv[2])\nprint(json.dumps(list(a.shape)))`,
    [JPLY, out],
  );
  const theirs = new Int32Array((await readFile(out)).buffer.slice(0));
  const ours = frameValues(await decodeFrame(parseDicom(await readFile(JPLY)), 0));
  assert.deepEqual(shape, [2140, 1760]);
  assert.equal(ours.length, theirs.length);
  let maxDiff = 0;
  for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - theirs[i]));
  assert.equal(maxDiff, 0);
  t.diagnostic(`max diff of stored values vs pydicom/GDCM: ${maxDiff} over ${ours.length} pixels`);
});

test('decodes the 8-bit baseline sample like libjpeg-turbo (islow IDCT, same output)', async (t) => {
  // The real 8-bit baseline file: our DCT decoder and the wasm libjpeg-turbo codec must agree.
  const { decodeWithWasm } = await import('../../../../src/ops/dicom/decode/wasm-codecs.ts');
  const parsed = parseDicom(await readFile(`${DICOM_FIXTURES}/pylibjpeg-data__JPEGBaseline__JPEGBaseline_1s_1f_u_08_08.dcm`));
  assert.ok(parsed.pixels.encapsulated);
  const stream = parsed.pixels.frames[0];
  const ours = decodeJpegDct(stream);
  const turbo = await decodeWithWasm('JPEGDecoder', stream);
  assert.deepEqual([ours.width, ours.height, ours.precision], [turbo.width, turbo.height, 8]);
  let maxDiff = 0;
  for (let i = 0; i < ours.samples.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours.samples[i] - turbo.bytes[i]));
  assert.equal(maxDiff, 0, `max diff vs libjpeg-turbo ${maxDiff}`);
  t.diagnostic(`max diff vs libjpeg-turbo: ${maxDiff}`);
});

test('rejects what it does not decode, with the reason', () => {
  assert.throws(() => decodeJpegDct(Uint8Array.from([0x89, 0x50])), /no SOI marker/);
  // SOI + SOF2 (progressive) header
  const progressive = Uint8Array.from([0xff, 0xd8, 0xff, 0xc2, 0x00, 0x0b, 12, 0, 8, 0, 8, 1, 1, 0x11, 0]);
  assert.throws(() => decodeJpegDct(progressive), /SOF marker 0xc2 \(progressive\) is not supported/);
  const arithmetic = Uint8Array.from([0xff, 0xd8, 0xff, 0xc9, 0x00, 0x0b, 8, 0, 8, 0, 8, 1, 1, 0x11, 0]);
  assert.throws(() => decodeJpegDct(arithmetic), /SOF marker 0xc9 \(arithmetic coding\) is not supported/);
  const noScan = Uint8Array.from([0xff, 0xd8, 0xff, 0xc1, 0x00, 0x11, 12, 0, 8, 0, 8, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 0xff, 0xd9]);
  assert.throws(() => decodeJpegDct(noScan), /no scan/);
});
