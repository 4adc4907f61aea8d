import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { initBackend } from '../../src/ml/backend.ts';
import { saveModelFiles } from '../../src/ml/model-io.ts';
import { buildModel } from '../../src/ml/models/index.ts';
import { gradcam } from '../../src/stages/gradcam.ts';
import { runStage, tempStore } from '../../src/testing/harness.ts';
import { blobDetector, blobImage } from '../ml/blob-fixture.ts';

async function png(px: Float32Array) {
  return sharp(Buffer.from(px.map((v) => Math.round(v * 255))), { raw: { width: 32, height: 32, channels: 1 } }).png().toBuffer();
}

/** Images alternating between the two classes and an untrained 2-way softmax small CNN's files. */
async function twoClassFixture(store: Awaited<ReturnType<typeof tempStore>>, classes: string[], n: number) {
  await initBackend('cpu');
  const rows: Array<{ id: string; split: string; labels: string[]; image: string }> = [];
  for (let i = 0; i < n; i++) rows.push({ id: `r${i}`, split: 'test', labels: [classes[i % 2]], image: await store.putBlob(await png(blobImage(8 + 3 * i, 12, i))) });
  const net = buildModel({ arch: 'small-cnn', inputSize: 32, channels: 1, classes: 2, task: 'multiclass', width: 0.25, seed: 1 });
  const files = await saveModelFiles(net);
  net.dispose();
  return { rows, files };
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

test('gradcam stage: a multi-class model groups by the argmax, as evaluate (which chooses no threshold there), also with its report as input', async () => {
  await initBackend('cpu');
  const store = await tempStore();
  const classes = ['a', 'b', 'c'];
  const rows = [];
  for (let i = 0; i < 6; i++) rows.push({ id: `r${i}`, split: 'test', labels: [classes[i % 3]], image: await store.putBlob(await png(blobImage(8 + 3 * i, 12, i))) });
  const net = buildModel({ arch: 'small-cnn', inputSize: 32, channels: 1, classes: 3, task: 'multiclass', width: 0.25, seed: 1 });
  const model = { kind: 'model' as const, files: await saveModelFiles(net), meta: { classes, inputSize: 32, channels: 1, task: 'multiclass', arch: 'small-cnn' } };
  net.dispose();
  // class a is the argmax of r0 (truth a: TP), r1 (truth b: FP) at a score below 0.5, and of none else
  const scoresOf: Record<string, number[]> = { r0: [0.4, 0.35, 0.25], r1: [0.45, 0.3, 0.25], r2: [0.3, 0.3, 0.4], r3: [0.3, 0.6, 0.1], r4: [0.2, 0.7, 0.1], r5: [0.1, 0.1, 0.8] };
  const predictions = { kind: 'predictions' as const, meta: { classes, task: 'multiclass' }, rows: rows.map((r) => ({ id: r.id, split: 'test', labels: r.labels, scores: scoresOf[r.id] })) };
  // evaluate writes no threshold/<class> for multi-class predictions
  const evaluation = { kind: 'report' as const, files: { 'report.json': '{}' }, meta: { task: 'multiclass', metrics: { auc_macro: 0.7, accuracy: 0.5 } } };
  const inputs = [{ name: 'model', artifact: model }, { name: 'data', artifact: { kind: 'dataset' as const, rows } }, { name: 'predictions', artifact: predictions }, { name: 'report', stage: 'evaluate', artifact: evaluation }];
  const result = await runStage(gradcam, { store, inputs, params: { class: 'a', per_group: 4, display_size: 64, backend: 'cpu' } });
  assert.deepEqual(result.artifact.meta.counts, { TP: 1, FP: 1, FN: 1, TN: 3 }, 'r0 TP, r1 FP, r3 (truth a, argmax b) FN');
  const report = JSON.parse((await result.file('report.json')).toString());
  assert.deepEqual(Object.fromEntries(report.images.map((e: any) => [e.id, e.group])), { r0: 'TP', r1: 'FP', r3: 'FN', r2: 'TN', r4: 'TN', r5: 'TN' });
  assert.equal(report.threshold, null);
  assert.match((await result.file('index.html')).toString(), /by the predicted class: positive when its score is the highest/);
  // an explicit threshold still wins: at 0.42 only r1 (0.45, truth b) is positive for a
  const explicit = await runStage(gradcam, { store, inputs, params: { class: 'a', per_group: 4, threshold: 0.42, display_size: 64, backend: 'cpu' } });
  assert.deepEqual(explicit.artifact.meta.counts, { TP: 0, FP: 1, FN: 2, TN: 3 });
});

test('gradcam stage: a binary 2-way softmax explains its positive (second) class by default, as evaluate reports it; class: still wins', async () => {
  const store = await tempStore();
  const classes = ['normal', 'disease'];
  const { rows, files } = await twoClassFixture(store, classes, 6);
  const modelOf = (task: string) => ({ kind: 'model' as const, files, meta: { classes, inputSize: 32, channels: 1, task, arch: 'small-cnn' } });
  // disease score: r1, r3 (disease) and r0 (normal) above 0.5; r5 (disease) below
  const p1: Record<string, number> = { r0: 0.7, r1: 0.9, r2: 0.2, r3: 0.8, r4: 0.1, r5: 0.3 };
  const predictions = { kind: 'predictions' as const, meta: { classes, task: 'multiclass' }, rows: rows.map((r) => ({ id: r.id, split: 'test', labels: r.labels, scores: [1 - p1[r.id], p1[r.id]] })) };
  const inputs = (task: string) => [{ name: 'model', artifact: modelOf(task) }, { name: 'data', artifact: { kind: 'dataset' as const, rows } }, { name: 'predictions', artifact: predictions }];
  const params = { per_group: 4, display_size: 64, backend: 'cpu' };

  const result = await runStage(gradcam, { store, inputs: inputs('multiclass'), params });
  assert.equal(result.artifact.meta.class, 'disease', 'before stage version 4: "normal", the first class');
  assert.deepEqual(result.artifact.meta.counts, { TP: 2, FP: 1, FN: 1, TN: 2 }, 'groups of disease: r1 r3 TP, r0 FP, r5 FN');
  assert.ok(result.logs.some((l) => /explaining class 1 "disease" \(the positive class, as evaluate's plain auc and f1: a 2-way softmax whose other class "normal" reads as the negative/.test(l)), result.logs.join('\n'));
  assert.match(JSON.parse((await result.file('report.json')).toString()).class_source, /positive class/);

  const normal = await runStage(gradcam, { store, inputs: inputs('multiclass'), params: { ...params, class: 'normal' } });
  assert.equal(normal.artifact.meta.class, 'normal');
  assert.deepEqual(normal.artifact.meta.counts, { TP: 2, FP: 1, FN: 1, TN: 2 }, 'groups of normal: r2 r4 TP, r5 FP, r0 FN');
  assert.ok(normal.logs.some((l) => /explaining class 0 "normal" \(class param\)/.test(l)), normal.logs.join('\n'));

  // the positive class an evaluate report input took (its positive: param) wins over the rule
  const report = { kind: 'report' as const, files: {}, meta: { metrics: {}, positive: 'normal' } };
  const fromReport = await runStage(gradcam, { store, inputs: [...inputs('multiclass'), { name: 'evaluation', artifact: report }], params });
  assert.equal(fromReport.artifact.meta.class, 'normal');
  assert.ok(fromReport.logs.some((l) => /explaining class 0 "normal" \(the positive class of .*'s plain auc and f1\)/.test(l)), fromReport.logs.join('\n'));

  // two independent labels (multi-label) have no one positive class: the first, and the log says so
  const multilabel = await runStage(gradcam, { store, inputs: inputs('multilabel'), params });
  assert.equal(multilabel.artifact.meta.class, 'normal');
  assert.ok(multilabel.logs.some((l) => /explaining class 0 "normal" \(the first class: a multilabel model has no one positive class/.test(l)), multilabel.logs.join('\n'));
});

test('gradcam stage: a 2-way softmax whose first class is the finding (abnormal / normal) explains the finding by default', async () => {
  const store = await tempStore();
  const classes = ['abnormal', 'normal'];
  const { rows, files } = await twoClassFixture(store, classes, 4);
  const inputs = [{ name: 'model', artifact: { kind: 'model' as const, files, meta: { classes, inputSize: 32, channels: 1, task: 'multiclass', arch: 'small-cnn' } } }, { name: 'data', artifact: { kind: 'dataset' as const, rows } }];
  const result = await runStage(gradcam, { store, inputs, params: { per_group: 2, display_size: 64, backend: 'cpu' } });
  assert.equal(result.artifact.meta.class, 'abnormal', 'the second class by sorted name would be "normal"');
  assert.ok(result.logs.some((l) => /explaining class 0 "abnormal" \(the positive class, as evaluate's plain auc and f1: a 2-way softmax whose other class "normal" reads as the negative/.test(l)), result.logs.join('\n'));
  assert.match(JSON.parse((await result.file('report.json')).toString()).class_source, /other class "normal" reads as the negative/);
});
