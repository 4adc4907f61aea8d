import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderDicom } from '../../../src/ops/dicom/convert.ts';
import { readDicomFileHeader } from '../../../src/ops/dicom/header.ts';
import { writeDicom, type DicomImageSpec } from '../../../src/ops/dicom/write.ts';
import { compareImages, pydicomRender } from './pydicom-render.ts';
import { needs } from '../../support/reference-tools.ts';

const ROWS = 6;
const COLS = 9;
const values = (frames: number) => Array.from({ length: ROWS * COLS * frames }, (_, i) => Math.sin(i * 0.37) * 1e3 + i / 7);

const cases: Array<[string, DicomImageSpec]> = [
  ['float LE', { rows: ROWS, columns: COLS, pixels: Float32Array.from(values(1)), modality: 'MR' }],
  ['float BE', { rows: ROWS, columns: COLS, pixels: Float32Array.from(values(1)), transferSyntax: 'explicit-be', modality: 'MR' }],
  ['float implicit 3 frames', { rows: ROWS, columns: COLS, pixels: Float32Array.from(values(3)), frames: 3, transferSyntax: 'implicit-le', modality: 'MR' }],
  ['double LE rescaled', { rows: ROWS, columns: COLS, pixels: Float64Array.from(values(1)), rescale: { slope: 0.25, intercept: -3 }, modality: 'MR' }],
  ['double BE', { rows: ROWS, columns: COLS, pixels: Float64Array.from(values(1), (v) => v * 1e-6), transferSyntax: 'explicit-be', modality: 'MR' }],
];

test('Float and Double Float Pixel Data (7FE0,0008 / 0009) render like pydicom, every frame, and ingest reads their header', { skip: needs('pydicom', 'numpy') }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'float-pixels-'));
  const paths: string[] = [];
  for (const [i, [, spec]] of cases.entries()) {
    paths.push(join(dir, `${i}.dcm`));
    await writeFile(paths[i], writeDicom(spec));
  }
  const reference = await pydicomRender(paths, await mkdtemp(join(tmpdir(), 'float-py-')), { allFrames: true });
  for (const [i, [name, spec]] of cases.entries()) {
    const py = reference[i];
    assert.ok(py.ok, `pydicom failed on ${name}: ${!py.ok && py.error}`);
    assert.equal(py.mode, 'minmax');
    const bytes = writeDicom(spec);
    for (const bits of [8, 16] as const) {
      const ours = await renderDicom(bytes, { window: 'auto', bits, frames: 'all' });
      assert.equal(ours.frames.length, spec.frames ?? 1);
      ours.frames.forEach((frame, f) => {
        assert.equal(compareImages(frame.pixels, bits === 8 ? py.pixels8[f] : py.pixels16[f]).maxDiff, 0, `${name} frame ${f}, ${bits}-bit`);
      });
    }
    const header = await readDicomFileHeader(paths[i]);
    assert.deepEqual([header.rows, header.columns, header.bitsAllocated, header.frames], [ROWS, COLS, spec.pixels instanceof Float64Array ? 64 : 32, spec.frames ?? 1], name);
  }
});

test('percentile and fixed windows work on floating-point pixels', async () => {
  const pixels = Float32Array.from({ length: 101 }, (_, i) => i / 10); // 0.0 .. 10.0
  const bytes = writeDicom({ rows: 1, columns: 101, pixels, modality: 'MR' });
  const p = (await renderDicom(bytes, { window: { percentile: { low: 10, high: 90 } }, bits: 8, frames: 'first' })).frames[0];
  assert.deepEqual([p.pixels[0], p.pixels[10], p.pixels[50], p.pixels[90], p.pixels[100]], [0, 0, 128, 255, 255]);
  const w = (await renderDicom(bytes, { window: { center: 5, width: 2, function: 'LINEAR_EXACT' }, bits: 8, frames: 'first' })).frames[0];
  assert.deepEqual([w.pixels[40], w.pixels[50], w.pixels[60]], [0, 128, 255]);
});
