import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../../src/ml/tf.ts';
import { initBackend } from '../../../../src/ml/backend.ts';
import { binaryCrossEntropy } from '../../../../src/ml/losses/index.ts';
import { OrtTrainer, trainLossOf } from '../../../../src/ml/onnx/training/ort-trainer.ts';
import { maxRelDiff } from '../../max-rel-diff.ts';
import { needsOrt, ort } from './step-fixtures.ts';

/**
 * Filter gradients of the convolution geometries the zoo's 3x3 'same' layers do not exercise, each from
 * its gathered im2col (layers/conv.ts `convFilterGrad`): an even kernel ('same' pads only bottom and
 * right), a kh x 1 and a 1 x 5 kernel, a 'valid' 3x3. Linear layers: no ReLU kinks to avoid.
 */
test('conv filter gradients of even, non-square and valid kernels equal tfjs (gathered im2col)', needsOrt, async () => {
  await initBackend('wasm');
  const input = tf.input({ shape: [20, 20, 3] });
  const conv = (name: string, filters: number, kernelSize: [number, number], padding: 'same' | 'valid') =>
    tf.layers.conv2d({ name, filters, kernelSize, padding, useBias: true, kernelInitializer: tf.initializers.glorotUniform({ seed: name.length }) });
  let h = conv('conv_a', 20, [3, 3], 'same').apply(input) as tf.SymbolicTensor;
  h = conv('conv_even', 18, [2, 2], 'same').apply(h) as tf.SymbolicTensor;
  h = conv('conv_tall', 18, [5, 1], 'same').apply(h) as tf.SymbolicTensor;
  h = conv('conv_wide', 17, [1, 5], 'same').apply(h) as tf.SymbolicTensor;
  h = conv('conv_valid', 17, [3, 3], 'valid').apply(h) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 3, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 9 }) }).apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  const n = 3;
  const x = tf.randomUniform([n, 20, 20, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const y = tf.tensor2d([1, 0, 1, 0, 1, 1, 0, 0, 1], [n, 3]);
  const trainer = await OrtTrainer.create(model, { loss: trainLossOf('bce', 'multilabel'), optimizer: { name: 'adam' }, threads: 1, exposeGradients: true, runtime: ort });
  const graph = Buffer.from(trainer.graph.bytes);
  for (const layer of ['conv_a', 'conv_even', 'conv_tall', 'conv_wide', 'conv_valid']) assert.ok(graph.includes(`${layer}/im2col`), `${layer} gathers its im2col`);
  const loss = await trainer.step(x.dataSync() as Float32Array, y.dataSync() as Float32Array, n, 1e-3);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => binaryCrossEntropy()(y, model.apply(x, { training: true }) as tf.Tensor2D), vars);
  assert.ok(Math.abs(loss - value.dataSync()[0]) <= 1e-5 * value.dataSync()[0], `loss ${loss} vs tfjs ${value.dataSync()[0]}`);
  const ours = trainer.lastGradients();
  vars.forEach((v, i) => {
    const diff = maxRelDiff(tf.tensor(ours[i], v.shape), grads[v.name]);
    assert.ok(diff < 1e-4, `${v.name}: gradient differs from tfjs's by ${diff} (relative)`);
  });
  await trainer.dispose();
  tf.dispose([x, y, value, ...Object.values(grads)]);
  model.dispose();
});
