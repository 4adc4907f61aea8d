import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderDicom } from '../../../src/ops/dicom/convert.ts';
import { decodeFrame, frameValues } from '../../../src/ops/dicom/decode/index.ts';
import { parseDicom } from '../../../src/ops/dicom/parse.ts';
import { writeDicom } from '../../../src/ops/dicom/write.ts';
import { encodeJ2k, encodeJpegLs } from './encoders.ts';
import { encodeLosslessJpeg } from './lossless-jpeg-encoder.ts';
import { compareImages, pydicomRender } from './pydicom-render.ts';
import { needs } from '../../support/reference-tools.ts';

/**
 * A frame whose stored values are all 0 is a valid image (blank frames of multi-frame RLE segmentations,
 * ultrasound loops, an all-black image). Every codec must return it as it is; pydicom renders it.
 */
const ROWS = 8;
const COLS = 12;
const blank = new Uint16Array(ROWS * COLS);
const ramp = Uint16Array.from({ length: ROWS * COLS }, (_, i) => i * 40);

async function files(): Promise<Array<[string, Uint8Array]>> {
  const base = { rows: ROWS, columns: COLS, pixels: Uint16Array.from([...blank, ...ramp]), frames: 2, bitsStored: 12, modality: 'OT' };
  const info = { width: COLS, height: ROWS, bitsPerSample: 12, componentCount: 1 };
  const lossless = (samples: Uint16Array) => encodeLosslessJpeg(samples, { width: COLS, height: ROWS, precision: 12, components: 1, predictor: 1 });
  const encapsulated = (transferSyntaxUid: string, frames: Uint8Array[]) => writeDicom({ ...base, encapsulated: { transferSyntaxUid, frames } });
  return [
    ['RLE Lossless', writeDicom({ ...base, transferSyntax: 'rle' })],
    ['JPEG Lossless SV1', encapsulated('1.2.840.10008.1.2.4.70', [lossless(blank), lossless(ramp)])],
    ['JPEG-LS Lossless', encapsulated('1.2.840.10008.1.2.4.80', [await encodeJpegLs(blank, info), await encodeJpegLs(ramp, info)])],
    ['JPEG 2000 Lossless', encapsulated('1.2.840.10008.1.2.4.90', [await encodeJ2k(blank, info), await encodeJ2k(ramp, info)])],
  ];
}

test('an all-zero frame decodes as zeros in every encapsulated codec and renders black', async () => {
  for (const [name, bytes] of await files()) {
    const parsed = parseDicom(bytes);
    assert.deepEqual([...frameValues(await decodeFrame(parsed, 0))], [...blank], `${name}: frame 0`);
    assert.deepEqual([...frameValues(await decodeFrame(parsed, 1))], [...ramp], `${name}: frame 1`);
    const { frames } = await renderDicom(bytes, { window: 'minmax', bits: 8, frames: 'all' });
    assert.equal(frames.length, 2, name);
    assert.ok(frames[0].pixels.every((v) => v === 0), `${name}: the blank frame renders black`);
  }
});

test('files with a blank frame render like pydicom, every frame', { skip: needs('pydicom', 'numpy') }, async () => {
  const all = await files();
  const dir = await mkdtemp(join(tmpdir(), 'blank-frames-'));
  const paths = all.map(([, bytes], i) => join(dir, `${i}.dcm`));
  await Promise.all(all.map(([, bytes], i) => writeFile(paths[i], bytes)));
  const reference = await pydicomRender(paths, await mkdtemp(join(tmpdir(), 'blank-frames-py-')), { allFrames: true });
  for (const [i, [name, bytes]] of all.entries()) {
    const py = reference[i];
    assert.ok(py.ok, `${name}: pydicom failed: ${!py.ok && py.error}`);
    const { frames } = await renderDicom(bytes, { window: 'auto', bits: 8, frames: 'all' });
    assert.equal(frames.length, py.frames, name);
    frames.forEach((f, k) => assert.equal(compareImages(f.pixels, py.pixels8[k]).maxDiff, 0, `${name} frame ${k}`));
  }
});
