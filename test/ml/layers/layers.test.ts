import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { maxRelDiff } from '../max-rel-diff.ts';
import { FastBatchNormalization } from '../../../src/ml/layers/batch-norm.ts';
import { LeanConv2D } from '../../../src/ml/layers/conv2d.ts';

/** Output and gradients (input and every weight) of a layer in training mode for a fixed input and output weighting. */
function forwardAndGrads(layer: tf.layers.Layer, x: tf.Tensor, w: tf.Tensor) {
  const vars = layer.trainableWeights.map((v) => v.read() as tf.Variable);
  const f = () => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, w)) as tf.Scalar;
  const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, w)))(x);
  const { grads } = tf.variableGrads(f, vars);
  return { y: layer.apply(x, { training: true }) as tf.Tensor, dx, dvars: vars.map((v) => grads[v.name]) };
}

test('fast batch norm matches the built-in layer: output, input/gamma/beta gradients and moving statistics', async () => {
  await initBackend('cpu');
  const x = tf.randomNormal([3, 5, 4, 6], 2, 3, 'float32', 1);
  const w = tf.randomNormal([3, 5, 4, 6], 0, 1, 'float32', 2);
  const make = <L extends tf.layers.Layer>(layer: L) => {
    layer.apply(tf.input({ shape: [5, 4, 6] }));
    layer.setWeights([tf.randomUniform([6], 0.5, 2, 'float32', 3), tf.randomNormal([6], 0, 1, 'float32', 4), tf.zeros([6]), tf.ones([6])]);
    return layer;
  };
  const ours = make(new FastBatchNormalization({ momentum: 0.9, epsilon: 1e-3 }));
  const theirs = make(tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 }));
  const a = forwardAndGrads(ours, x, w);
  const b = forwardAndGrads(theirs, x, w);
  assert.ok(maxRelDiff(a.y, b.y) < 1e-5, `output ${maxRelDiff(a.y, b.y)}`);
  assert.ok(maxRelDiff(a.dx, b.dx) < 1e-4, `dx ${maxRelDiff(a.dx, b.dx)}`);
  a.dvars.forEach((g, i) => assert.ok(maxRelDiff(g, b.dvars[i]) < 1e-4, `weight ${i}: ${maxRelDiff(g, b.dvars[i])}`));
  // moving mean/variance after the same number of training calls
  const [, , mOurs, vOurs] = ours.getWeights();
  const [, , mTheirs, vTheirs] = theirs.getWeights();
  assert.ok(maxRelDiff(mOurs, mTheirs) < 1e-5 && maxRelDiff(vOurs, vTheirs) < 1e-5);
  assert.equal(ours.getClassName(), 'BatchNormalization');
});

test('lean conv2d matches the built-in (fused) Conv2D layer with bias and activation', async () => {
  await initBackend('cpu');
  const x = tf.randomNormal([2, 7, 7, 3], 0, 1, 'float32', 5);
  const w = tf.randomNormal([2, 4, 4, 5], 0, 1, 'float32', 6);
  const args = { filters: 5, kernelSize: 3, strides: 2, padding: 'same' as const, activation: 'relu' as const, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), biasInitializer: tf.initializers.randomNormal({ seed: 2 }) };
  const ours = new LeanConv2D(args) as tf.layers.Layer;
  const theirs = tf.layers.conv2d(args);
  for (const layer of [ours, theirs]) layer.apply(tf.input({ shape: [7, 7, 3] }));
  const a = forwardAndGrads(ours, x, w);
  const b = forwardAndGrads(theirs, x, w);
  assert.ok(maxRelDiff(a.y, b.y) < 1e-6);
  assert.ok(maxRelDiff(a.dx, b.dx) < 1e-5);
  a.dvars.forEach((g, i) => assert.ok(maxRelDiff(g, b.dvars[i]) < 1e-5, `weight ${i}`));
  assert.equal(ours.getClassName(), 'Conv2D');
});
