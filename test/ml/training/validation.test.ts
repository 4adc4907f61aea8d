import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { makeLoss } from '../../../src/ml/losses/index.ts';
import type { Predictor } from '../../../src/ml/inference/predictor.ts';
import type { ImageLoader } from '../../../src/ml/training/image-loader.ts';
import { validate } from '../../../src/ml/training/validation.ts';

// logits.test.ts's focal case: torchvision.ops.sigmoid_focal_loss (alpha .25, gamma 2, mean) in float64 on these
const z = [[0.3, -1.2, 30, -4], [-30, 2, 0, 1.5]];
const y = [[1, 0, 0, 1], [1, 0, 1, 0]];
const torchvisionFocal = 4.142279982196623;

const predicting = (values: number[][]): Predictor => ({ engine: 'tfjs', predict: async () => Float32Array.from(values.flat()), dispose: async () => undefined });
const loader = { batch: async () => new Float32Array(0) } as unknown as ImageLoader;

test('validation from the logits: val_loss is the training loss from the logits (no clipping at 1e-7), the scores their sigmoid', async () => {
  await initBackend('cpu');
  const loss = makeLoss('focal', 'multilabel');
  const targets = y.map((row) => Float32Array.from(row));
  const fromLogits = await validate(predicting(z), loader, ['a', 'b'], targets, loss, 2, loss.logits);
  assert.ok(Math.abs(fromLogits.loss - torchvisionFocal) <= 1e-6 * torchvisionFocal, `${fromLogits.loss} vs torchvision ${torchvisionFocal}`);
  const sigmoid = z.map((row) => row.map((v) => 1 / (1 + Math.exp(-v))));
  fromLogits.scores.forEach((row, i) => row.forEach((s, k) => assert.ok(Math.abs(s - sigmoid[i][k]) <= 1e-7, `score ${i},${k}: ${s} vs ${sigmoid[i][k]}`)));
  // the same outputs as probabilities (a model without a logits form): clipped at 1e-7, so z = -30 for a
  // positive and 30 for a negative count -log(1e-7) = 16.1 instead of 30, and the loss is lower
  const clipped = await validate(predicting(sigmoid), loader, ['a', 'b'], targets, loss, 2);
  const want = tf.tidy(() => loss(tf.tensor2d(y), tf.tensor2d(sigmoid)).dataSync()[0]);
  assert.ok(Math.abs(clipped.loss - want) <= 1e-6, `${clipped.loss} vs ${want}`);
  assert.ok(fromLogits.loss - clipped.loss > 1, `${fromLogits.loss} from the logits, ${clipped.loss} clipped`);
  assert.equal(clipped.auc, fromLogits.auc);
});

test('validation from the logits under a softmax: the scores are the softmax, the loss CE from log_softmax', async () => {
  await initBackend('cpu');
  const loss = makeLoss('ce', 'multiclass');
  // logits.test.ts's CE rows [[30, -30, 0]] with target class 1: -log_softmax = 60
  const result = await validate(predicting([[30, -30, 0]]), loader, ['a'], [Float32Array.from([0, 1, 0])], loss, 1, loss.logits);
  assert.ok(Math.abs(result.loss - 60) <= 1e-5, `${result.loss}`);
  assert.ok(Math.abs(result.scores[0][0] - 1) <= 1e-7 && result.scores[0][1] >= 0 && result.scores[0][1] < 1e-20, `${result.scores[0]}`);
});
