import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderDicom } from '../../../src/ops/dicom/convert.ts';
import { applyModalityLut, modalityTransform } from '../../../src/ops/dicom/modality-lut.ts';
import { writeDicom, type DicomImageSpec } from '../../../src/ops/dicom/write.ts';
import { compareImages, pydicomRender } from './pydicom-render.ts';
import { needs } from '../../support/reference-tools.ts';

test('rescale slope/intercept applies only when both are present', () => {
  assert.deepEqual([...applyModalityLut([0, 4, -6], { rescaleSlope: 0.5, rescaleIntercept: -10 })], [-10, -8, -13]);
  assert.deepEqual([...applyModalityLut([0, 4], {})], [0, 4]);
});

test('a Modality LUT Sequence wins over rescale and clamps like pydicom', () => {
  const lut = { entries: 3, firstMapped: 10, bitsPerEntry: 16, data: Uint16Array.from([5, 6, 7]) };
  const f = modalityTransform({ modalityLut: lut, rescaleSlope: 2, rescaleIntercept: 1 });
  assert.deepEqual([3, 10, 11, 12, 99].map(f), [5, 5, 6, 7, 7]);
  const signed = modalityTransform({ modalityLut: { ...lut, firstMapped: -2 } });
  assert.deepEqual([-5, -2, -1, 0, 1].map(signed), [5, 5, 6, 7, 7]);
});

test('Modality LUT Sequences of 8, 16 and 32 output bits under a window (whose range follows the LUT depth) and min-max render like pydicom', { skip: needs('pydicom', 'numpy') }, async () => {
  const rows = 16;
  const columns = 20;
  const pixels = Uint16Array.from({ length: rows * columns }, (_, i) => (i * 13) % 4096);
  const curve = Array.from({ length: 4096 }, (_, i) => Math.round(65535 * (i / 4095) ** 0.7));
  const window = { center: 30000, width: 40000 };
  const cases: Array<[string, Partial<DicomImageSpec>]> = [
    ['32-bit OW, window', { modalityLut: { firstMapped: 0, bits: 32, data: curve }, window }],
    ['32-bit US, window', { modalityLut: { firstMapped: 0, bits: 32, data: curve, dataVr: 'US' }, window }],
    ['32-bit OW, min-max', { modalityLut: { firstMapped: 0, bits: 32, data: curve } }],
    ['32-bit big endian, window', { modalityLut: { firstMapped: 0, bits: 32, data: curve }, window, transferSyntax: 'explicit-be' }],
    ['16-bit, descriptor 0 (65,536 entries), window', { modalityLut: { firstMapped: 0, bits: 16, data: Array.from({ length: 65536 }, (_, i) => curve[i >> 4]), entries: 65536 }, window }],
    ['8-bit, window', { modalityLut: { firstMapped: 0, bits: 8, data: curve.map((v) => v >> 8) }, window: { center: 120, width: 160 } }],
  ];
  const dir = await mkdtemp(join(tmpdir(), 'modality-lut32-'));
  const files = cases.map(([, extra]) => writeDicom({ rows, columns, pixels, bitsStored: 12, modality: 'CR', ...extra }));
  const paths = files.map((_, i) => join(dir, `${i}.dcm`));
  await Promise.all(files.map((bytes, i) => writeFile(paths[i], bytes)));
  const reference = await pydicomRender(paths, await mkdtemp(join(tmpdir(), 'modality-lut32-py-')));
  for (const [i, [name, extra]] of cases.entries()) {
    const py = reference[i];
    assert.ok(py.ok, `${name}: pydicom failed: ${!py.ok && py.error}`);
    assert.equal(py.mode, extra.window ? 'window' : 'minmax', name);
    for (const bits of [8, 16] as const) {
      const ours = (await renderDicom(files[i], { window: 'auto', bits, frames: 'first' })).frames[0];
      const { maxDiff, differing } = compareImages(ours.pixels, bits === 8 ? py.pixels8[0] : py.pixels16[0]);
      assert.equal(maxDiff, 0, `${name}, ${bits}-bit: ${differing} pixels differ from pydicom (${ours.voi})`);
    }
  }
});
