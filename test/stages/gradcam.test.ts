import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { initBackend } from '../../src/ml/backend.ts';
import { saveModelFiles } from '../../src/ml/model-io.ts';
import { gradcam } from '../../src/stages/gradcam.ts';
import { runStage, tempStore } from '../../src/testing/harness.ts';
import { blobDetector, blobImage } from '../ml/blob-fixture.ts';

async function png(px: Float32Array) {
  return sharp(Buffer.from(px.map((v) => Math.round(v * 255))), { raw: { width: 32, height: 32, channels: 1 } }).png().toBuffer();
}

test('gradcam stage: gallery of TP/FP/FN/TN overlays whose hottest pixel sits on the blob', async () => {
  await initBackend('cpu');
  const store = await tempStore();
  const blobs: Array<[number, number]> = [[8, 8], [22, 10], [12, 24], [25, 25]];
  const rows = [];
  for (const [i, [cx, cy]] of blobs.entries()) rows.push({ id: `pos${i}`, split: 'test', labels: ['blob'], image: await store.putBlob(await png(blobImage(cx, cy, i))), cx, cy });
  for (let i = 0; i < 4; i++) rows.push({ id: `neg${i}`, split: 'test', labels: [], image: await store.putBlob(await png(blobImage(-10, -10, 10 + i))) });
  const model = { kind: 'model' as const, files: await saveModelFiles(blobDetector()), meta: { classes: ['blob'], inputSize: 32, channels: 1, task: 'binary', arch: 'hand' } };
  const inputs = [{ name: 'model', artifact: model }, { name: 'data', artifact: { kind: 'dataset' as const, rows } }];
  const result = await runStage(gradcam, { store, inputs, params: { per_group: 3, display_size: 64, backend: 'cpu' } });
  const report = JSON.parse((await result.file('report.json')).toString());
  assert.deepEqual(result.artifact.meta.counts, { TP: 3, FP: 0, FN: 0, TN: 3 });
  for (const entry of report.images.filter((e: any) => e.group === 'TP')) {
    const row = rows.find((r) => r.id === entry.id)!;
    const { data } = await sharp(await result.file(entry.file)).raw().toBuffer({ resolveWithObject: true });
    // hottest = most red relative to blue in the jet overlay
    let best = 0;
    for (let i = 1; i < 64 * 64; i++) if (data[3 * i] - data[3 * i + 2] > data[3 * best] - data[3 * best + 2]) best = i;
    const [x, y] = [(best % 64) / 2, Math.floor(best / 64) / 2];
    assert.ok(Math.abs(x - row.cx!) <= 2 && Math.abs(y - row.cy!) <= 2, `${entry.id}: hottest (${x}, ${y}) vs blob (${row.cx}, ${row.cy})`);
    assert.ok(entry.score > 0.5);
  }
  // a negative's overlay keeps the stored pixels (no inverted normalisation): grey where the heat is 0
  const tn = report.images.find((e: any) => e.group === 'TN');
  const { data: tnPx } = await sharp(await result.file(tn.file)).raw().toBuffer({ resolveWithObject: true });
  assert.ok(tnPx[0] === tnPx[1] && tnPx[1] === tnPx[2] && tnPx[0] < 60, `background stays dark grey: ${[...tnPx.subarray(0, 3)]}`);
  const html = (await result.file('index.html')).toString();
  assert.match(html, /<img src="gallery\/TP\/pos\d\.png"/);

  // with a predictions input the groups follow its scores: pos0 scored low = FN, neg0 scored high = FP
  const predictions = { kind: 'predictions' as const, meta: { classes: ['blob'], task: 'binary' }, rows: rows.map((r) => ({ id: r.id, split: 'test', labels: r.labels, scores: [r.id === 'pos0' ? 0.1 : r.id === 'neg0' ? 0.9 : r.labels.length ? 0.8 : 0.2] })) };
  const grouped = await runStage(gradcam, { store, inputs: [...inputs, { name: 'predictions', artifact: predictions }], params: { per_group: 2, display_size: 64, backend: 'cpu' } });
  assert.deepEqual(grouped.artifact.meta.counts, { TP: 2, FP: 1, FN: 1, TN: 2 });
  await assert.rejects(runStage(gradcam, { store, inputs, params: { class: 'nodule', backend: 'cpu' } }), /class "nodule" is not one of the model's classes \[blob\]/);

  // with an evaluate report input, its threshold decides the groups (issue 11: the gallery used 0.5
  // while evaluate used its own threshold, so the groups disagreed with the report's confusion matrix)
  const evaluation = { kind: 'report' as const, files: { 'report.json': '{}' }, meta: { metrics: { 'threshold/blob': 0.85, auc: 0.9 } } };
  const agreed = await runStage(gradcam, { store, inputs: [...inputs, { name: 'predictions', artifact: predictions }, { name: 'report', stage: 'evaluate', artifact: evaluation }], params: { per_group: 4, display_size: 64, backend: 'cpu' } });
  assert.deepEqual(agreed.artifact.meta.counts, { TP: 0, FP: 1, FN: 4, TN: 3 }, 'positives scored 0.8 are below 0.85: false negatives');
  const agreedReport = JSON.parse((await agreed.file('report.json')).toString());
  assert.equal(agreedReport.threshold, 0.85);
  for (const e of agreedReport.images) assert.equal(e.group === 'TP' || e.group === 'FP', e.score >= 0.85, `${e.id} ${e.group} at score ${e.score}`);
  const explicit = await runStage(gradcam, { store, inputs: [...inputs, { name: 'predictions', artifact: predictions }, { name: 'report', stage: 'evaluate', artifact: evaluation }], params: { per_group: 4, threshold: 0.5, display_size: 64, backend: 'cpu' } });
  assert.deepEqual(explicit.artifact.meta.counts, { TP: 3, FP: 1, FN: 1, TN: 3 }, 'an explicit threshold wins');
});
