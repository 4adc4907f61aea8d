import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDicom } from '../../../../src/ops/dicom/parse.ts';
import { decodeFrame, frameValues } from '../../../../src/ops/dicom/decode/index.ts';

const corpus = (name: string) => readFileSync(fileURLToPath(new URL(`../../../fixtures/dicom-conformance/files/${name}`, import.meta.url)));

// OpenJPEG's wasm build clamps signed samples of 8 bits or fewer at 0; both files hold the same pixels.
test('JPEG 2000 signed 8-bit: negative samples decode as written (the native file of the same pixels), every time', async () => {
  const j2k = corpus('j2k-lossless-s8-gdcm.dcm');
  const expected = Array.from(frameValues(await decodeFrame(parseDicom(corpus('native-s8-explicit-le.dcm')), 0)));
  assert.ok(expected.filter((v) => v < 0).length > 100, 'the pattern holds negative values');
  const before = Buffer.from(j2k);
  for (let k = 0; k < 2; k++) assert.deepEqual(Array.from(frameValues(await decodeFrame(parseDicom(j2k), 0))), expected, `decode ${k + 1}`);
  assert.ok(before.equals(j2k), 'decoding leaves the file bytes as they were');
});

test('JPEG 2000 signed 8-bit at an odd size (exact) and lossy (close to the original, negatives kept)', async () => {
  const odd = Array.from(frameValues(await decodeFrame(parseDicom(corpus('odd-j2k-s8.dcm')), 0)));
  assert.deepEqual(odd, Array.from(frameValues(await decodeFrame(parseDicom(corpus('odd-native-s8.dcm')), 0))));
  const lossy = Array.from(frameValues(await decodeFrame(parseDicom(corpus('j2k-lossy-s8.dcm')), 0)));
  const exact = Array.from(frameValues(await decodeFrame(parseDicom(corpus('native-s8-explicit-le.dcm')), 0)));
  const worst = Math.max(...lossy.map((v, i) => Math.abs(v - exact[i])));
  assert.ok(worst < 40, `lossy decode within ${worst} of the original (a clamped decode is off by up to 128)`);
});
