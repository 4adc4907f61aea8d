import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialScheduleState, learningRate, observeEpoch, type ScheduleConfig } from '../../../src/ml/training/schedule.ts';
import { epochOrder } from '../../../src/ml/training/sampler.ts';
import { classesOf, inferTask, targetOf } from '../../../src/ml/training/targets.ts';
import { batchNormBackward, batchNormForward } from '../../../src/ml/layers/batch-norm.ts';
import { seededRandom } from '../../../src/util/random.ts';

const lrs = (config: ScheduleConfig, epochs: number) => Array.from({ length: epochs }, (_, i) => +learningRate(config, 0.1, i + 1, epochs, initialScheduleState(0.1)).toFixed(6));

test('step and cosine schedules give the hand-computed rates', () => {
  assert.deepEqual(lrs({ type: 'step', step_size: 2, gamma: 0.5 }, 5), [0.1, 0.1, 0.05, 0.05, 0.025]);
  // cosine over 5 epochs to 0: 0.1 * (1 + cos(pi * t)) / 2 for t = 0, .2, .4, .6, .8
  assert.deepEqual(lrs({ type: 'cosine', min_lr: 0, warmup_epochs: 0 }, 5), [0.1, 0.090451, 0.065451, 0.034549, 0.009549]);
  // one warm-up epoch: 0.1 * 1/2, then cosine over the remaining 4
  assert.deepEqual(lrs({ type: 'cosine', min_lr: 0, warmup_epochs: 1 }, 5), [0.05, 0.1, 0.085355, 0.05, 0.014645]);
});

test('multistep: PyTorch MultiStepLR with milestones in epochs or as fractions of the epochs (MedMNIST: 0.5, 0.75)', () => {
  assert.deepEqual(lrs({ type: 'multistep', milestones: [2, 3], gamma: 0.1 }, 5), [0.1, 0.1, 0.01, 0.001, 0.001]);
  // 8 epochs, milestones 0.5 and 0.75 = epochs 4 and 6: MedMNIST's [0.5 * 8, 0.75 * 8] with scheduler.step() after each epoch.
  assert.deepEqual(lrs({ type: 'multistep', milestones: [0.5, 0.75], gamma: 0.1 }, 8), [0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001]);
});

test('reduce-on-plateau cuts the rate after `patience` epochs without a better validation loss', () => {
  const config: ScheduleConfig = { type: 'plateau', factor: 0.1, patience: 1, min_lr: 0.001 };
  let state = initialScheduleState(0.1);
  const seen: number[] = [];
  for (const loss of [1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99]) {
    state = observeEpoch(config, state, loss);
    seen.push(+state.lr.toFixed(6));
  }
  assert.deepEqual(seen, [0.1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001]);
});

test('balanced sampler draws rare classes about as often as common ones', () => {
  const rows = [
    ...Array.from({ length: 90 }, (_, i) => ({ id: `n${i}`, labels: ['No finding'] })),
    ...Array.from({ length: 10 }, (_, i) => ({ id: `a${i}`, labels: ['A'] })),
  ];
  const order = epochOrder(rows, ['A', 'No finding'], true, seededRandom(1));
  const rare = order.filter((r) => r.labels[0] === 'A').length;
  assert.equal(order.length, 100);
  assert.ok(rare > 35 && rare < 65, `rare drawn ${rare} of 100`);
  const shuffledOrder = epochOrder(rows, ['A', 'No finding'], false, seededRandom(1));
  assert.deepEqual(shuffledOrder.map((r) => r.id).sort(), rows.map((r) => r.id).sort());
});

test('classes, task inference and multi-hot targets', () => {
  const rows = [{ id: '1', labels: ['B', 'A'] }, { id: '2', labels: ['No finding'] }];
  assert.deepEqual(classesOf(rows, {}), ['A', 'B', 'No finding']);
  assert.deepEqual(classesOf(rows, { classes: ['No finding', 'A', 'B'] }), ['No finding', 'A', 'B']);
  assert.equal(inferTask(rows, ['A', 'B', 'No finding']), 'multilabel');
  assert.equal(inferTask([{ id: '1', labels: ['A'] }, { id: '2', labels: ['B'] }], ['A', 'B']), 'multiclass');
  assert.equal(inferTask(rows, ['A']), 'binary');
  // A dataset declared multi-label (an .npz with N x K labels) stays multi-label when each row happens to carry one label.
  assert.equal(inferTask([{ id: '1', labels: ['A'] }, { id: '2', labels: ['B'] }], ['A', 'B'], 'multilabel'), 'multilabel');
  assert.equal(inferTask([{ id: '1', labels: ['A'] }, { id: '2', labels: ['B'] }], ['A', 'B'], 'multiclass'), 'multiclass');
  assert.deepEqual(Array.from(targetOf(rows[0], ['A', 'B', 'No finding'])), [1, 1, 0]);
});

test('batch norm loops on a hand-checked 2x1 array', () => {
  // x = [1, 3]: mean 2, variance 1, y = [-1, 1] (gamma 1, beta 0, eps 0)
  const f = batchNormForward([1, 3], 2, 1, [1], [0], 0);
  assert.deepEqual(Array.from(f.y), [-1, 1]);
  assert.equal(f.mean[0], 2);
  assert.equal(f.variance[0], 1);
  // dy = [1, 0]: dbeta = 1, dgamma = 1 * -1 = -1, dx = 1/2 * (2*dy - 1 - xhat * -1) = [0, 0]
  const b = batchNormBackward([1, 0], [1, 3], 2, 1, [1], f.mean, f.invStd);
  assert.deepEqual(Array.from(b.dBeta), [1]);
  assert.deepEqual(Array.from(b.dGamma), [-1]);
  assert.deepEqual(Array.from(b.dx).map((v) => v + 0), [0, 0]);
});
