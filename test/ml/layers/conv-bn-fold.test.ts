import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { maxRelDiff } from '../max-rel-diff.ts';
import { unfoldConv } from '../../../src/ml/layers/conv-bn-fold.ts';
import { foldConvBatchNorms } from '../../../src/ml/layers/fold-model.ts';
import { buildModel, type Architecture } from '../../../src/ml/models/index.ts';

/** A model with non-trivial batch-norm parameters and moving statistics (fresh ones are identity-like). */
function modelWithBnStats(arch: Architecture, foldNow: boolean): tf.LayersModel {
  const model = buildModel({ arch, inputSize: 32, channels: 1, classes: 3, task: 'multilabel', seed: 7, width: 0.25 }, { foldBatchNorms: foldNow });
  let seed = 100;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const c = layer.getWeights()[0].shape[0];
    layer.setWeights([tf.randomUniform([c], 0.5, 2, 'float32', seed++), tf.randomNormal([c], 0, 0.5, 'float32', seed++), tf.randomNormal([c], 0, 0.5, 'float32', seed++), tf.randomUniform([c], 0.2, 3, 'float32', seed++)]);
  }
  return model;
}

for (const backend of ['cpu', 'wasm'] as const) {
  for (const arch of ['small-cnn', 'resnet18'] as const) {
    test(`conv+BN folding (${arch}, ${backend}): same inference output as the unfolded model, training mode untouched`, async () => {
      await initBackend(backend);
      const plain = modelWithBnStats(arch, false);
      const folded = modelWithBnStats(arch, false);
      folded.setWeights(plain.getWeights());
      const pairs = foldConvBatchNorms(folded);
      const bns = folded.layers.filter((l) => l.getClassName() === 'BatchNormalization').length;
      assert.equal(pairs, bns, 'every conv->BN pair of the zoo folds');
      const x = tf.randomUniform([3, 32, 32, 1], 0, 1, 'float32', 9);
      const features = (m: tf.LayersModel) => tf.model({ inputs: m.inputs, outputs: m.getLayer('features').output as tf.SymbolicTensor });
      const d = maxRelDiff(features(folded).predict(x) as tf.Tensor, features(plain).predict(x) as tf.Tensor);
      assert.ok(d < 1e-5, `features differ by ${d}`);
      assert.ok(maxRelDiff(folded.predict(x) as tf.Tensor, plain.predict(x) as tf.Tensor) < 1e-5);
      const dt = maxRelDiff(folded.apply(x, { training: true }) as tf.Tensor, plain.apply(x, { training: true }) as tf.Tensor);
      assert.ok(dt < 1e-6, `training-mode output differs by ${dt}`);
      // after the training call the moving statistics moved identically, and folding follows them
      assert.ok(maxRelDiff(folded.predict(x) as tf.Tensor, plain.predict(x) as tf.Tensor) < 1e-5);
    });
  }
}

test('an unfolded conv gives its own (pre-batch-norm) output again', async () => {
  await initBackend('cpu');
  const plain = modelWithBnStats('small-cnn', false);
  const folded = modelWithBnStats('small-cnn', false);
  folded.setWeights(plain.getWeights());
  foldConvBatchNorms(folded);
  const x = tf.randomUniform([2, 32, 32, 1], 0, 1, 'float32', 3);
  const convOut = (m: tf.LayersModel) => tf.model({ inputs: m.inputs, outputs: m.getLayer('block2a_conv').output as tf.SymbolicTensor }).predict(x) as tf.Tensor;
  assert.ok(maxRelDiff(convOut(folded), convOut(plain)) > 1e-2, 'folded conv returns the normalised output');
  unfoldConv(folded.getLayer('block2a_conv'));
  assert.ok(maxRelDiff(convOut(folded), convOut(plain)) < 1e-6);
  assert.ok(maxRelDiff(folded.predict(x) as tf.Tensor, plain.predict(x) as tf.Tensor) < 1e-5);
});

test('folded weights are cached until a weight changes, and repeated predictions leak no tensors', async () => {
  await initBackend('wasm');
  const plain = modelWithBnStats('small-cnn', false);
  const folded = modelWithBnStats('small-cnn', false);
  folded.setWeights(plain.getWeights());
  foldConvBatchNorms(folded);
  const x = tf.randomUniform([2, 32, 32, 1], 0, 1, 'float32', 3);
  const run = (m: tf.LayersModel) => tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync().slice());
  run(folded);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) run(folded);
  assert.equal(tf.memory().numTensors, before, 'no tensors created per prediction once folded weights are cached');
  // new weights (as after a training step) must be picked up
  const weights = plain.getWeights().map((w, i) => (i % 3 === 0 ? tf.mul(w, 1.5) : w));
  plain.setWeights(weights);
  folded.setWeights(weights);
  const a = tf.tensor(run(folded)), b = tf.tensor(run(plain));
  assert.ok(maxRelDiff(a, b) < 1e-5, `after setWeights: ${maxRelDiff(a, b)}`);
  assert.equal(tf.memory().numTensors - before, 2 + weights.filter((_, i) => i % 3 === 0).length, 'old folded weights were freed');
});
