import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensemble } from '../../src/stages/ensemble.ts';
import { runStage } from '../../src/testing/harness.ts';

const meta = { classes: ['a', 'b'], task: 'multilabel' };
// One tta artifact with a set per model: both models predict the test image, each its own fold's val image.
const tta = {
  kind: 'predictions' as const,
  meta: { ...meta, histories: { 'train[fold=0]': [{ epoch: 1, train_loss: 0.5 }] } },
  rows: [
    { id: 't1', split: 'test', labels: ['a'], model: 'train[fold=0]', scores: [0.9, 0.1], boxes: [{ label: 'a', x_min: 0, y_min: 0, x_max: 10, y_max: 10, score: 0.9 }] },
    { id: 't1', split: 'test', labels: ['a'], model: 'train[fold=1]', scores: [0.5, 0.3], boxes: [{ label: 'a', x_min: 1, y_min: 1, x_max: 11, y_max: 11, score: 0.6 }] },
    { id: 't2', split: 'test', labels: [], model: 'train[fold=0]', scores: [0.2, 0.4], boxes: [] },
    { id: 't2', split: 'test', labels: [], model: 'train[fold=1]', scores: [0.1, 0.2], boxes: [] },
    { id: 'v0', split: 'train', fold: 0, labels: ['b'], model: 'train[fold=0]', scores: [0.3, 0.8] },
  ],
};

test('ensemble mean: test images averaged over models, out-of-fold rows kept once, boxes fused with WBF', async () => {
  const result = await runStage(ensemble, { inputs: [{ name: 'tta', artifact: tta }] });
  const rows = await result.rows<any>();
  assert.deepEqual(rows.map((r) => [r.id, r.models]), [['t1', 2], ['t2', 2], ['v0', 1]]);
  assert.ok(Math.abs(rows[0].scores[0] - 0.7) < 1e-12 && Math.abs(rows[0].scores[1] - 0.2) < 1e-12);
  assert.deepEqual(rows[2].scores, [0.3, 0.8]);
  assert.equal(rows[0].model, undefined);
  assert.equal(rows[0].boxes.length, 1);
  assert.ok(Math.abs(rows[0].boxes[0].score - 0.75) < 1e-12); // WBF avg of .9 and .6, both models
  assert.ok(Math.abs(rows[0].boxes[0].x_min - 0.4) < 1e-12);
  assert.deepEqual(rows[1].boxes, []);
  assert.deepEqual(result.artifact.meta.classes, ['a', 'b']);
  assert.deepEqual(result.artifact.meta.histories, tta.meta.histories, 'training histories pass through to the report');
});

test('ensemble weighted and rank average', async () => {
  const weighted = await runStage(ensemble, { inputs: [{ name: 'tta', artifact: tta }], params: { method: 'weighted', weights: { 'train[fold=0]': 3 } } });
  const w = await weighted.rows<any>();
  assert.ok(Math.abs(w[0].scores[0] - (0.9 * 3 + 0.5) / 4) < 1e-12);
  const ranked = await runStage(ensemble, { inputs: [{ name: 'tta', artifact: tta }], params: { method: 'rank' } });
  const r = await ranked.rows<any>();
  // model 0 class a: t1 .9, t2 .2, v0 .3 -> ranks 1, 1/3, 2/3; model 1: t1 .5, t2 .1 -> 1, 1/2
  assert.ok(Math.abs(r[0].scores[0] - 1) < 1e-12);
  assert.ok(Math.abs(r[1].scores[0] - (1 / 3 + 1 / 2) / 2) < 1e-12);
  assert.equal(ranked.artifact.meta.scores, 'rank');
  await assert.rejects(runStage(ensemble, { inputs: [{ name: 'tta', artifact: tta }], params: { weights: { nope: 1 } } }), /weights names unknown model "nope"/);
  await assert.rejects(
    runStage(ensemble, { inputs: [{ name: 'x', stage: 'x', artifact: tta }, { name: 'y', stage: 'y', artifact: { ...tta, meta: { classes: ['a'], task: 'binary' } } }] }),
    /predicts binary \[a\] but x predicts multilabel/,
  );
});
