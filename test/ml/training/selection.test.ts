import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scoreOf, shouldStop, watchEpoch, type Metric, type Watch } from '../../../src/ml/training/selection.ts';
import type { EpochRecord } from '../../../src/ml/training/checkpoint.ts';

const history: EpochRecord[] = [
  { epoch: 1, lr: 1, train_loss: 0.9, val_loss: 0.80, val_auc: 0.70, seconds: 0 },
  { epoch: 2, lr: 1, train_loss: 0.8, val_loss: 0.60, val_auc: 0.75, seconds: 0 },
  { epoch: 3, lr: 1, train_loss: 0.7, val_loss: 0.65, val_auc: 0.82, seconds: 0 }, // AUC still rising, loss up
  { epoch: 4, lr: 1, train_loss: 0.6, val_loss: 0.70, val_auc: 0.81, seconds: 0 },
  { epoch: 5, lr: 1, train_loss: 0.5, val_loss: 0.75, val_auc: 0.80, seconds: 0 },
];

/** The loop's selection over a history: the best epoch by `monitor` and where early stopping on `metric` ends the run. */
function run(monitor: Metric, stopping: { metric: Metric; patience: number } | null, epochs = history.length) {
  let best: Watch | undefined;
  let watch: Watch | undefined;
  for (const record of history.slice(0, epochs)) {
    best = watchEpoch(best, record, monitor, {});
    if (!stopping) continue;
    watch = watchEpoch(watch, record, stopping.metric, {});
    if (shouldStop(watch, record.epoch, stopping.patience, epochs)) return { best: best.epoch, stoppedAt: record.epoch };
  }
  return { best: best!.epoch, stoppedAt: undefined };
}

test('the checkpoint monitor picks the model, early_stopping.metric decides when to stop: neither replaces the other', () => {
  // monitor val_loss keeps epoch 2 even when early stopping watches val_auc (which peaks at 3 and stops at 5)
  assert.deepEqual(run('val_loss', { metric: 'val_auc', patience: 2 }), { best: 2, stoppedAt: undefined });
  assert.deepEqual(run('val_loss', { metric: 'val_auc', patience: 1 }), { best: 2, stoppedAt: 4 });
  // and the other way round: stopping on val_loss (best at 2) with the model chosen by AUC (epoch 3)
  assert.deepEqual(run('val_auc', { metric: 'val_loss', patience: 2 }), { best: 3, stoppedAt: 4 });
  // without early_stopping.metric the stage passes monitor for both
  assert.deepEqual(run('val_auc', { metric: 'val_auc', patience: 1 }), { best: 3, stoppedAt: 4 });
  assert.deepEqual(run('val_auc', null), { best: 3, stoppedAt: undefined });
});

test('scores: higher is better; val_loss is negated; without validation the train loss decides; ties keep the earlier epoch', () => {
  assert.equal(scoreOf(history[0], 'val_auc'), 0.7);
  assert.equal(scoreOf(history[0], 'val_loss'), -0.8);
  assert.equal(scoreOf({ epoch: 1, lr: 1, train_loss: 0.4, seconds: 0 }, 'val_auc'), -0.4);
  const tie = watchEpoch({ epoch: 1, score: 0.75 }, history[1], 'val_auc', {});
  assert.equal(tie.epoch, 1);
  assert.equal(shouldStop({ epoch: 1, score: 0 }, 3, 2, 3), false, 'no stop at the last epoch (nothing left to save)');
});
