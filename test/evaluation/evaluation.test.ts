import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseThreshold } from '../../src/evaluation/thresholds.ts';
import { thresholdSchema } from '../../src/evaluation/threshold-schema.ts';
import { historySeries } from '../../src/evaluation/learning-curves.ts';
import { selectSplit, toClassificationData } from '../../src/evaluation/predictions.ts';

const truth = [0, 0, 0, 0, 1, 1];
const scores = [0.1, 0.2, 0.3, 0.4, 0.35, 0.9];

test('thresholds: youden, fixed, percentile of all / negatives / positives', () => {
  assert.equal(chooseThreshold('youden', truth, scores).value, 0.35); // J: .9 → .5, .4 → .25, .35 → 1 − .25 = .75
  assert.equal(chooseThreshold({ fixed: 0.3 }, truth, scores).value, 0.3);
  assert.ok(Math.abs(chooseThreshold(thresholdSchema.parse({ percentile: 50 }), truth, scores).value - 0.325) < 1e-12);
  assert.ok(Math.abs(chooseThreshold(thresholdSchema.parse({ percentile: { q: 75, among: 'negatives' } }), truth, scores).value - 0.325) < 1e-12);
  assert.equal(chooseThreshold(thresholdSchema.parse({ percentile: { q: 0, among: 'positives' } }), truth, scores).value, 0.35);
  const fallback = chooseThreshold('youden', [0, 0], [0.1, 0.2]);
  assert.deepEqual([fallback.value, /only one outcome/.test(fallback.note ?? '')], [0.5, true]);
  assert.throws(() => thresholdSchema.parse({ percentile: 120 }));
});

test('learning curves read per-epoch records and tfjs History objects', () => {
  const records = historySeries([{ epoch: 1, train_loss: 0.9, val_auc: 0.6, seconds: 3 }, { epoch: 2, train_loss: 0.7, val_auc: 0.7, seconds: 3 }]);
  assert.deepEqual(records.map((s) => [s.name, s.x, s.y]), [['train_loss', [1, 2], [0.9, 0.7]], ['val_auc', [1, 2], [0.6, 0.7]]]);
  assert.deepEqual(historySeries({ loss: [1, 0.5] }, 'f0 ').map((s) => [s.name, s.x]), [['f0 loss', [0, 1]]]);
});

test('predictions: split selection and clear errors for bad rows', () => {
  const rows = [{ id: 'a', split: 'test' as const }, { id: 'b', split: 'train' as const }, { id: 'c' }];
  assert.deepEqual(selectSplit(rows, 'val').map((r) => r.id), ['b', 'c']);
  assert.throws(() => toClassificationData([{ id: 'x', labels: [], scores: [0.1] }], ['a', 'b'], 'multilabel'), /image x: scores \[0\.1\] do not match the 2 classes/);
  assert.throws(() => toClassificationData([{ id: 'y', labels: ['a', 'b'], scores: [0.5, 0.5] }], ['a', 'b'], 'multiclass'), /image y: labels .* name 2 of the classes/);
  const d = toClassificationData([{ id: 'z', labels: ['No finding'], scores: [0.2, 0.1] }], ['a', 'b'], 'multilabel');
  assert.deepEqual([d.truth, d.unknownLabels], [[[0, 0]], ['No finding']]);
});
