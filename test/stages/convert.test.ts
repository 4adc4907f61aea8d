import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { DatasetRow } from '../../src/data-model.ts';
import { writeDicom } from '../../src/ops/dicom/write.ts';
import { convertStage } from '../../src/stages/convert.ts';
import { runStage, tempStore } from '../../src/testing/harness.ts';
import type { Store } from '../../src/store/store.ts';
import { DICOM_FIXTURES } from '../support/fixtures.ts';

const DATA = DICOM_FIXTURES;
const PATIENT_NAME = 'Doe^Janet';

function synthetic(seed: number, extra: Partial<Parameters<typeof writeDicom>[0]> = {}): Uint8Array {
  const rows = 30;
  const columns = 40;
  const pixels = Uint16Array.from({ length: rows * columns }, (_, i) => ((i + seed) * 97) % 4096);
  return writeDicom({ rows, columns, pixels, bitsStored: 12, window: { center: 2048, width: 4096 }, patient: { id: `P${seed}`, name: PATIENT_NAME, birthDate: '19500101' }, ...extra });
}

/** Replaces the first occurrence of `from` by `to` (same length) in a copy of `bytes`. */
function patch(bytes: Uint8Array, from: number[] | string, to: number[] | string): Uint8Array {
  const a = typeof from === 'string' ? [...Buffer.from(from, 'latin1')] : from;
  const b = typeof to === 'string' ? [...Buffer.from(to, 'latin1')] : to;
  const at = Buffer.from(bytes).indexOf(Buffer.from(a));
  assert.ok(at >= 0, 'patch target found');
  const out = new Uint8Array(bytes);
  out.set(b, at);
  return out;
}

async function dataset(store: Store, files: Array<{ id: string; bytes: Uint8Array; boxes?: DatasetRow['boxes'] }>) {
  const rows: DatasetRow[] = [];
  for (const f of files) rows.push({ id: f.id, patient: `pseudo-${f.id}`, labels: [], dicom: await store.putBlob(f.bytes), ...(f.boxes ? { boxes: f.boxes } : {}) });
  return { artifact: { kind: 'dataset' as const, rows, meta: { classes: ['Nodule'] } } };
}

async function png(store: Store, digest: string) {
  return sharp(await store.getBlob(digest)).metadata();
}

test('converts real and synthetic DICOMs to PNG rows, resizing and scaling boxes', async () => {
  const store = await tempStore();
  const input = await dataset(store, [
    { id: 'chest', bytes: await readFile(join(DATA, 'fo-dicom__CR-MONO1-10-chest.dcm')), boxes: [{ label: 'Nodule', x_min: 44, y_min: 88, x_max: 220, y_max: 440 }] },
    { id: 'ct-j2k', bytes: await readFile(join(DATA, 'fo-dicom__CT1_J2KI.dcm')) },
    { id: 'synthetic', bytes: synthetic(1) },
  ]);
  const result = await runStage(convertStage, { store, inputs: [input], params: { size: 64 } });
  const rows = await result.rows<DatasetRow>();
  assert.deepEqual(rows.map((r) => r.id), ['chest', 'ct-j2k', 'synthetic']);
  assert.deepEqual(rows.map((r) => [r.width, r.height, r.source_width, r.source_height]), [
    [64, 64, 440, 440],
    [64, 64, 512, 512],
    [64, 48, 40, 30],
  ]);
  assert.deepEqual(rows[0].boxes, [{ label: 'Nodule', x_min: 6.4, y_min: 12.8, x_max: 32, y_max: 64 }]);
  assert.equal(rows[0].patient, 'pseudo-chest');
  assert.ok(typeof rows[0].dicom === 'string');
  for (const r of rows) {
    const meta = await png(store, r.image!);
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels, meta.depth], ['png', r.width, r.height, 1, 'uchar']);
  }
  assert.deepEqual(result.artifact.meta.classes, ['Nodule']);
  assert.deepEqual(result.artifact.meta.convert, { total: 3, converted: 3, failed: 0, failures: [] });

  const sixteen = await runStage(convertStage, { store, inputs: [input], params: { bits: 16, window: { center: 2048, width: 1000 } } });
  const row = (await sixteen.rows<DatasetRow>())[2];
  const meta = await png(store, row.image!);
  assert.deepEqual([meta.width, meta.height, meta.depth], [40, 30, 'ushort']);
});

test('bad files are skipped and reported with id and reason; on_error: fail fails', async () => {
  const store = await tempStore();
  const good = synthetic(2);
  const baseline = await readFile(join(DATA, 'pylibjpeg-data__JPEGBaseline__JPEGBaseline_1s_1f_u_08_08.dcm'));
  const input = await dataset(store, [
    { id: 'good', bytes: good },
    { id: 'truncated', bytes: good.subarray(0, Math.floor(good.length * 0.6)) },
    { id: 'not-dicom', bytes: new TextEncoder().encode('id,label\n1,Nodule\n'.repeat(20)) },
    // Pixel Data (7FE0,0010) renamed to a private tag (7FE1,0010).
    { id: 'no-pixels', bytes: patch(good, [0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x57], [0xe1, 0x7f, 0x10, 0x00, 0x4f, 0x57]) },
    // JPEG Baseline relabelled as retired JPEG Full Progression (same UID length).
    { id: 'unsupported', bytes: patch(baseline, '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.55') },
  ]);
  const result = await runStage(convertStage, { store, inputs: [input] });
  assert.deepEqual((await result.rows<DatasetRow>()).map((r) => r.id), ['good']);
  const report = result.artifact.meta.convert as { failed: number; failures: Array<{ id: string; reason: string }> };
  assert.equal(report.failed, 4);
  const reasons = Object.fromEntries(report.failures.map((f) => [f.id, f.reason]));
  assert.match(reasons.truncated, /truncated/);
  assert.match(reasons['not-dicom'], /not a DICOM file/);
  assert.match(reasons['no-pixels'], /no pixel data \(7FE0,0010\)/);
  assert.match(reasons.unsupported, /unsupported transfer syntax 1\.2\.840\.10008\.1\.2\.4\.55/);
  for (const id of Object.keys(reasons)) assert.ok(result.logs.some((l) => l.startsWith('warn: ') && l.includes(id)), `log names ${id}`);
  assert.ok(!JSON.stringify([result.logs, result.artifact.meta]).includes(PATIENT_NAME.split('^')[0]), 'no patient name in logs or meta');

  // Failures are not cached: the rerun tries them again, the good file is a cache hit.
  const again = await runStage(convertStage, { store, inputs: [input] });
  const progress = again.events.filter((e) => e.type === 'progress').at(-1);
  assert.deepEqual(progress?.type === 'progress' && [progress.items.cached, progress.items.failed], [1, 4]);

  await assert.rejects(runStage(convertStage, { store, inputs: [input], params: { on_error: 'fail' } }), /item (truncated|not-dicom|no-pixels|unsupported): /);
});

test('per-item cache: adding 2 files converts 2 (on worker threads)', async () => {
  const store = await tempStore();
  const files = [1, 2, 3, 4, 5].map((seed) => ({ id: `img${seed}`, bytes: synthetic(10 + seed) }));
  await runStage(convertStage, { store, inputs: [await dataset(store, files.slice(0, 3))] });
  process.env.PIPELINE_CONVERT_WORKERS = '2';
  const second = await runStage(convertStage, { store, inputs: [await dataset(store, files)] }).finally(() => delete process.env.PIPELINE_CONVERT_WORKERS);
  const progress = second.events.filter((e) => e.type === 'progress').at(-1);
  assert.deepEqual(progress?.type === 'progress' && [progress.items.done, progress.items.cached], [5, 3]);
  assert.ok(second.logs.includes('info: converted 2, cached 3, failed 0 of 5'));
  assert.equal((await second.rows()).length, 5);
  // Changing a rendering param invalidates every item.
  const bits16 = await runStage(convertStage, { store, inputs: [await dataset(store, files)], params: { bits: 16 } });
  assert.ok(bits16.logs.includes('info: converted 5, cached 0, failed 0 of 5'));
});

test('multi-frame: frames first gives one row, frames all one row per frame', async () => {
  const store = await tempStore();
  // Two 10x8 frames written as one 20x8 image, then Rows patched to 10 and Number of Frames set to 2.
  const pixels = Uint8Array.from({ length: 20 * 8 }, (_, i) => (i < 80 ? 10 : 200) + (i % 8));
  const tall = writeDicom({ rows: 20, columns: 8, pixels, extra: { '00280008': { vr: 'IS', Value: [2] } } });
  const twoFrames = patch(tall, [0x28, 0x00, 0x10, 0x00, 0x55, 0x53, 0x02, 0x00, 20, 0], [0x28, 0x00, 0x10, 0x00, 0x55, 0x53, 0x02, 0x00, 10, 0]);
  const input = await dataset(store, [{ id: 'cine', bytes: twoFrames }]);
  const first = await runStage(convertStage, { store, inputs: [input], params: { window: 'minmax' } });
  assert.deepEqual((await first.rows<DatasetRow>()).map((r) => [r.id, r.width, r.height]), [['cine', 8, 10]]);
  const all = await runStage(convertStage, { store, inputs: [input], params: { window: { center: 100, width: 300, function: 'LINEAR_EXACT' }, frames: 'all' } });
  const rows = await all.rows<DatasetRow>();
  assert.deepEqual(rows.map((r) => [r.id, r.frame, r.source_id, r.width, r.height]), [['cine#0', 0, 'cine', 8, 10], ['cine#1', 1, 'cine', 8, 10]]);
  const means = await Promise.all(rows.map(async (r) => (await sharp(await store.getBlob(r.image!)).stats()).channels[0].mean));
  // frame 0 holds 10..17, frame 1 200..207; window [-50, 250] maps v to (v + 50) / 300 * 255
  assert.ok(Math.abs(means[0] - (13.5 + 50) / 300 * 255) < 1, `frame 0 mean ${means[0]}`);
  assert.ok(Math.abs(means[1] - (203.5 + 50) / 300 * 255) < 1, `frame 1 mean ${means[1]}`);
});

test('params are strict and validated', async () => {
  await assert.rejects(runStage(convertStage, { params: { bits: 12 } }), /invalid params for convert: bits/);
  await assert.rejects(runStage(convertStage, { params: { windw: 'auto' } }), /invalid params for convert/);
  await assert.rejects(runStage(convertStage, { params: { window: { percentile: { low: 90, high: 10 } } } }), /low must be below high/);
  const store = await tempStore();
  const noDicom = { artifact: { kind: 'dataset' as const, rows: [{ id: 'a', image: 'x' }] } };
  await assert.rejects(runStage(convertStage, { store, inputs: [noDicom] }), /has no "dicom" column/);
});
