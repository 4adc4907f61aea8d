import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { asymmetricLoss, binaryCrossEntropy, crossEntropy, effectiveNumberWeights, focalLoss, makeLoss, smoothLabels } from '../../../src/ml/losses/index.ts';

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} vs ${expected}`);
const value = (t: tf.Scalar) => t.dataSync()[0];

// p = [0.8, 0.3] for truth [1, 0]; values below are worked out by hand (see comments).
const p = () => tf.tensor2d([[0.8, 0.3]]);
const y = () => tf.tensor2d([[1, 0]]);

test('binary cross-entropy: mean of -ln 0.8 and -ln 0.7', async () => {
  await initBackend('cpu');
  close(value(binaryCrossEntropy()(y(), p())), (-Math.log(0.8) - Math.log(0.7)) / 2, 'bce'); // 0.28990925
  // class weights [2, 1] double the positive term: (2*0.22314 + 0.35667) / 2
  close(value(binaryCrossEntropy([2, 1])(y(), p())), 0.40148102, 'weighted bce');
});

test('cross-entropy: -ln of the true class probability', async () => {
  await initBackend('cpu');
  close(value(crossEntropy()(tf.tensor2d([[0, 1, 0]]), tf.tensor2d([[0.7, 0.2, 0.1]]))), 1.60943791, 'ce'); // -ln 0.2
});

test('focal loss alpha .25 gamma 2 (sigmoid and softmax forms)', async () => {
  await initBackend('cpu');
  // positive: .25 * .2^2 * -ln .8 = .0022314; negative: .75 * .3^2 * -ln .7 = .0240756; mean .0131535
  close(value(focalLoss()(y(), p())), 0.01315349711, 'focal');
  // softmax: -.25 * (1 - .2)^2 * ln .2 = .25751007
  close(value(focalLoss({ softmax: true })(tf.tensor2d([[0, 1, 0]]), tf.tensor2d([[0.7, 0.2, 0.1]]))), 0.25751006599, 'softmax focal');
  // gamma 0, alpha .5 is half of BCE
  close(value(focalLoss({ alpha: 0.5, gamma: 0 })(y(), p())), 0.28990925 / 2, 'focal gamma 0');
});

test('asymmetric loss gamma_neg 4, gamma_pos 1, clip .05', async () => {
  await initBackend('cpu');
  // positive: .2 * -ln .8 = .0446287; negative: p_m = .3 - .05 = .25, .25^4 * -ln .75 = .0011238; mean .0228762
  close(value(asymmetricLoss()(y(), p())), 0.02287623418, 'asl');
  // a negative below the clip costs nothing
  close(value(asymmetricLoss()(tf.tensor2d([[0]]), tf.tensor2d([[0.04]]))), 0, 'asl clipped negative');
  close(value(makeLoss({ asl: { gamma_neg: 0, gamma_pos: 0, clip: 0 } }, 'multilabel')(y(), p())), 0.28990925, 'asl without focusing is bce');
});

test('label smoothing eps .1: 0.95/0.05 for sigmoid targets, 1-eps+eps/3 for 3-way softmax', async () => {
  await initBackend('cpu');
  assert.deepEqual(Array.from(smoothLabels(tf.tensor2d([[1, 0]]), 0.1, false).dataSync()).map((v) => +v.toFixed(6)), [0.95, 0.05]);
  assert.deepEqual(Array.from(smoothLabels(tf.tensor2d([[0, 1, 0]]), 0.1, true).dataSync()).map((v) => +v.toFixed(6)), [0.033333, 0.933333, 0.033333]);
});

test('class-balanced weights by effective number, normalised to sum to C', () => {
  const w = effectiveNumberWeights([1, 100], 0.9); // raw [1, .1/(1-.9^100)] -> scaled to sum 2
  close(w[0], 1.8181774278, 'rare class');
  close(w[1], 0.1818225722, 'common class');
  assert.deepEqual(effectiveNumberWeights([5, 5]), [1, 1]);
});
