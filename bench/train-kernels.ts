// Micro-benchmark of candidate wasm gradient kernels on the small CNN's shapes (batch 32, 64 px).
// usage: node --import tsx bench/train-kernels.ts
import * as tf from '../src/ml/tf.ts';
import { initBackend } from '../src/ml/backend.ts';
import { call, free, type WasmBackend } from '../src/ml/wasm-kernels/kernel-call.ts';
import { maxPoolGrad } from '../src/ml/wasm-kernels/max-pool-grad.ts';
import { conv2DBackpropFilter } from '../src/ml/wasm-kernels/conv2d-backprop-filter.ts';

await initBackend('wasm');
const b = tf.engine().backend as unknown as WasmBackend;
const time = (label: string, f: () => tf.TensorInfo, reps = 3) => {
  free(b, f());
  const t = performance.now();
  for (let i = 0; i < reps; i++) free(b, f());
  console.log(`${label.padEnd(60)} ${((performance.now() - t) / reps).toFixed(1).padStart(8)} ms`);
};
for (const [h, ci, co] of [[64, 32, 32], [32, 64, 64], [16, 128, 128], [32, 32, 64]]) {
  const x = tf.randomNormal([32, h, h, ci], 0, 1, 'float32', 1);
  const dy = tf.randomNormal([32, h, h, co], 0, 1, 'float32', 2);
  const w = tf.randomNormal([3, 3, ci, co], 0, 1, 'float32', 3);
  const attrs = { strides: [1, 1], pad: 'same', dimRoundingMode: undefined, filterShape: [3, 3, ci, co], dilations: [1, 1], dataFormat: 'NHWC' };
  time(`conv fwd ${h}x${h}x${ci}->${co}`, () => call(b, 'Conv2D', { x, filter: w }, { strides: [1, 1], pad: 'same', dilations: [1, 1], dataFormat: 'NHWC' }));
  time(`dW one-conv ${h}x${h}x${ci}->${co}`, () => conv2DBackpropFilter({ inputs: { x, dy }, backend: b, attrs }));
  tf.dispose([x, dy, w]);
}
{
  const x = tf.relu(tf.randomNormal([32, 64, 64, 32], 0, 1, 'float32', 1));
  const dy = tf.randomNormal([32, 32, 32, 32], 0, 1, 'float32', 2);
  const attrs = { filterSize: 2, strides: 2, pad: 'same' };
  time('MaxPoolGrad wasm 64x64x32', () => call(b, 'MaxPoolGrad', { dy, input: x }, attrs));
  time('MaxPoolGrad ours 64x64x32', () => maxPoolGrad({ inputs: { dy, input: x }, backend: b, attrs }));
}
{
  // batch norm (training) forward + backward on the 64x64x32 activation: float64 JS loops vs backend kernels
  const { FastBatchNormalization } = await import('../src/ml/layers/batch-norm.ts');
  const { batchNormTrainingOps } = await import('../src/ml/layers/batch-norm-ops.ts');
  const layer = new FastBatchNormalization({ momentum: 0.9, epsilon: 1e-5 }) as unknown as tf.layers.Layer;
  layer.apply(tf.input({ shape: [64, 64, 32] }));
  const x = tf.randomNormal([32, 64, 64, 32], 1, 2, 'float32', 1);
  const dy = tf.randomNormal([32, 64, 64, 32], 0, 1, 'float32', 2);
  const gamma = tf.ones([32]) as tf.Tensor1D, beta = tf.zeros([32]) as tf.Tensor1D;
  const timeGrad = (label: string, f: (x: tf.Tensor) => tf.Tensor) => {
    const run = () => tf.tidy(() => tf.grad(f)(x, dy).dataSync());
    run();
    const t = performance.now();
    for (let i = 0; i < 3; i++) run();
    console.log(`${label.padEnd(60)} ${((performance.now() - t) / 3).toFixed(1).padStart(8)} ms`);
  };
  timeGrad('BN fwd+bwd layer (as wired) 64x64x32', (t) => layer.apply(t, { training: true }) as tf.Tensor);
  timeGrad('BN fwd+bwd backend kernels 64x64x32', (t) => batchNormTrainingOps(t, gamma, beta, 1e-5).y);
  timeGrad('reference: sum(x*dy) only', (t) => t);
}
