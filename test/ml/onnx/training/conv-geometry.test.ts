import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../../src/ml/tf.ts';
import { initBackend } from '../../../../src/ml/backend.ts';
import { binaryCrossEntropy } from '../../../../src/ml/losses/index.ts';
import { OrtTrainer, trainLossOf } from '../../../../src/ml/onnx/training/ort-trainer.ts';
import { maxRelDiff } from '../../max-rel-diff.ts';
import { needsOrt, ort } from './step-fixtures.ts';

/** One ONNX Runtime step of `model` (3 sigmoid outputs) against tfjs: the loss, and every weight's gradient within 1e-4 relative. */
async function assertStepMatchesTfjs(model: tf.LayersModel, x: tf.Tensor4D, gathered: string[]): Promise<void> {
  const n = x.shape[0];
  const y = tf.tensor2d(Array.from({ length: n * 3 }, (_, i) => (i % 4 === 0 || i % 3 === 2 ? 1 : 0)), [n, 3]);
  const trainer = await OrtTrainer.create(model, { loss: trainLossOf('bce', 'multilabel'), optimizer: { name: 'adam' }, threads: 1, exposeGradients: true, runtime: ort });
  const graph = Buffer.from(trainer.graph.bytes);
  for (const layer of gathered) assert.ok(graph.includes(`${layer}/im2col`), `${layer} gathers its im2col`);
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
}

const head = (h: tf.SymbolicTensor) =>
  tf.layers.dense({ units: 3, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 9 }) }).apply(tf.layers.globalAveragePooling2d({}).apply(h)) as tf.SymbolicTensor;

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
  const model = tf.model({ inputs: input, outputs: head(h) });
  await assertStepMatchesTfjs(model, tf.randomUniform([3, 20, 20, 3], 0, 1, 'float32', 5) as tf.Tensor4D, ['conv_a', 'conv_even', 'conv_tall', 'conv_wide', 'conv_valid']);
});

/**
 * The depthwise filter gradient (`depthwiseFilterGrad`: a batched product of each channel's gathered
 * im2col with its dy) on geometries beyond the zoo's: an even kernel, stride 2 'same' on an odd map (the
 * odd padding pixel at the bottom / right), a 5x5 stride 2, a 'valid' 3x1 stride 2 and a 1x1.
 */
test('depthwise filter gradients of even, strided, non-square and valid kernels equal tfjs (gathered im2col)', needsOrt, async () => {
  await initBackend('wasm');
  const input = tf.input({ shape: [21, 21, 5] });
  const dw = (name: string, kernelSize: [number, number], strides: number, padding: 'same' | 'valid') =>
    tf.layers.depthwiseConv2d({ name, kernelSize, strides, padding, useBias: true, depthwiseInitializer: tf.initializers.glorotUniform({ seed: name.length }) });
  let h = dw('dw_even', [2, 2], 1, 'same').apply(input) as tf.SymbolicTensor;
  h = dw('dw_odd_s2', [3, 3], 2, 'same').apply(h) as tf.SymbolicTensor; // 21 -> 11
  h = dw('dw_5x5_s2', [5, 5], 2, 'same').apply(h) as tf.SymbolicTensor; // 11 -> 6
  h = dw('dw_valid_tall', [3, 1], 2, 'valid').apply(h) as tf.SymbolicTensor; // 6 x 6 -> 2 x 3
  h = dw('dw_1x1', [1, 1], 1, 'same').apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: head(h) });
  await assertStepMatchesTfjs(model, tf.randomUniform([3, 21, 21, 5], 0, 1, 'float32', 7) as tf.Tensor4D, ['dw_even', 'dw_odd_s2', 'dw_5x5_s2', 'dw_valid_tall']);
});
