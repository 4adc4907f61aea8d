import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runStage, tempStore } from '../../src/testing/harness.ts';
import { preprocess } from '../../src/stages/preprocess.ts';
import { resolveOps, WORKER_MIN_ROWS } from '../../src/stages/preprocess.run.ts';
import { PreprocessParams } from '../../src/stages/preprocess-params.ts';
import { decodeGrey } from '../../src/ops/image/png.ts';
import { encodeGreyPng } from '../../src/ops/image/png-encode.ts';
import { applyOps } from '../../src/ops/image/apply.ts';
import type { Store } from '../../src/store/store.ts';
import { synthetic } from '../ops/image/helpers.ts';

const OPS = [
  { crop: { left: 0.1, right: 0.1, top: 0.2, bottom: 0 } },
  { clahe: { clip: 2, tiles: 4 } },
  { resize: { width: 32, fit: 'pad' } },
];

async function dataset(store: Store, count: number, bits: 8 | 16 = 8) {
  const rows = [];
  for (let i = 0; i < count; i++) {
    const image = await store.putBlob(encodeGreyPng(synthetic(80, 50, bits, i + 1)));
    rows.push({ id: `img${i}`, patient: `p${i}`, labels: ['Nodule'], image, width: 80, height: 50, boxes: [{ label: 'Nodule', x_min: 8, y_min: 10, x_max: 48, y_max: 30 }] });
  }
  return { kind: 'dataset' as const, rows, meta: { classes: ['Nodule'] } };
}

test('preprocess applies ops in order, transforms boxes and caches per image', async () => {
  const store = await tempStore();
  const input = await dataset(store, 3);
  const first = await runStage(preprocess, { store, inputs: [{ artifact: input }], params: { ops: OPS } });
  const rows = await first.rows<{ id: string; image: string; width: number; height: number; boxes: Array<Record<string, number | string>> }>();
  assert.equal(rows.length, 3);
  // crop 80x50 -> x 8..72, y 10..50 = 64x40; pad-resize to 32: scale .5, content 32x20 at top 6
  assert.deepEqual([rows[0].width, rows[0].height], [32, 32]);
  assert.deepEqual(rows[0].boxes, [{ label: 'Nodule', x_min: 0, y_min: 6, x_max: 20, y_max: 16 }]);
  assert.deepEqual(first.artifact.meta.classes, ['Nodule']);
  // The stored PNG equals the pure ops applied directly.
  const expected = await applyOps(synthetic(80, 50, 8, 1), resolveOps(PreprocessParams.parse({ ops: OPS }).ops));
  const stored = await decodeGrey(await store.getBlob(rows[0].image));
  assert.deepEqual(Array.from(stored.data), Array.from(expected.image.data));
  // A fourth image: only it is processed.
  const more = await dataset(store, 4);
  const second = await runStage(preprocess, { store, inputs: [{ artifact: more }], params: { ops: OPS } });
  const last = second.events.filter((e) => e.type === 'progress').at(-1);
  assert.ok(last?.type === 'progress' && last.items.cached === 3 && last.items.done === 4);
  // A changed op param recomputes every image.
  const changed = structuredClone(OPS);
  changed[1] = { clahe: { clip: 8, tiles: 4 } }; // clip limit per 160-px tile: 1 bin count at clip 2, 5 at clip 8
  const third = await runStage(preprocess, { store, inputs: [{ artifact: more }], params: { ops: changed } });
  const p3 = third.events.filter((e) => e.type === 'progress').at(-1);
  assert.ok(p3?.type === 'progress' && p3.items.cached === 0);
  assert.notEqual((await third.rows<{ image: string }>())[0].image, rows[0].image);
});

test('preprocess keeps 16-bit images 16-bit and upstream columns', async () => {
  const store = await tempStore();
  const input = await dataset(store, 1, 16);
  const run = await runStage(preprocess, { store, inputs: [{ artifact: input }], params: { ops: [{ invert: true }, { median: { size: 3 } }] } });
  const [row] = await run.rows<{ image: string; patient: string; labels: string[] }>();
  const img = await decodeGrey(await store.getBlob(row.image));
  assert.ok(img.data instanceof Uint16Array);
  assert.equal(row.patient, 'p0');
  assert.deepEqual(row.labels, ['Nodule']);
});

test('preprocess params: clear paths for bad ops, and rows without image are refused', async () => {
  await assert.rejects(runStage(preprocess, { params: { ops: [{ crop: {} }, { clahe: { clipp: 2 } }] } }), /ops\.1\.clahe.*clipp/);
  await assert.rejects(runStage(preprocess, { params: { ops: [{ crop: {}, clahe: {} }] } }), /exactly one of: crop, autocrop/);
  await assert.rejects(runStage(preprocess, { params: { ops: [{ resize: { width: 32, fit: 'cover' } }] } }), /ops\.0\.resize\.fit/);
  await assert.rejects(
    runStage(preprocess, { inputs: [{ artifact: { kind: 'dataset', rows: [{ id: 'x1' }] } }], params: { ops: [{ invert: true }] } }),
    /row x1 has no image/,
  );
});

test('preprocess on worker threads (>= WORKER_MIN_ROWS rows) gives the same images as in-process', async () => {
  const store = await tempStore();
  const rows = [];
  for (let i = 0; i < WORKER_MIN_ROWS; i++) {
    rows.push({ id: `w${i}`, image: await store.putBlob(encodeGreyPng(synthetic(24, 20, i % 2 ? 16 : 8, i + 1))), width: 24, height: 20 });
  }
  const ops = [{ autocrop: {} }, { clahe: { clip: 3, tiles: 2 } }, { resize: { width: 16, interpolation: 'bilinear' } }];
  const pooled = await runStage(preprocess, { store, concurrency: 2, inputs: [{ artifact: { kind: 'dataset', rows } }], params: { ops } });
  const inProcess = await runStage(preprocess, { concurrency: 1, inputs: [{ artifact: { kind: 'dataset', rows: rows.slice(0, 8) } }], store: await copyBlobs(store, rows.slice(0, 8)), params: { ops } });
  assert.ok(pooled.logs.some((l) => l.includes('on 2 worker threads')), pooled.logs.join('\n'));
  assert.ok(inProcess.logs.some((l) => l.includes('in-process')));
  const a = await pooled.rows<{ image: string }>(), b = await inProcess.rows<{ image: string }>();
  assert.deepEqual(b.map((r) => r.image), a.slice(0, 8).map((r) => r.image));
  assert.equal(new Set(a.map((r) => r.image)).size, WORKER_MIN_ROWS);
});

/** A fresh store holding only the given rows' image blobs (so nothing is served from the item cache). */
async function copyBlobs(from: Store, rows: Array<{ image: string }>): Promise<Store> {
  const to = await tempStore();
  for (const r of rows) await to.putBlob(await from.getBlob(r.image));
  return to;
}

test('preprocess names the image id when a blob is not a readable image', async () => {
  const store = await tempStore();
  const bad = await store.putBlob('not a png');
  await assert.rejects(
    runStage(preprocess, { store, inputs: [{ artifact: { kind: 'dataset', rows: [{ id: 'xray-17', image: bad }] } }], params: { ops: [{ invert: true }] } }),
    /item xray-17: .*unsupported image format/,
  );
});
