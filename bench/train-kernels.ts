// Micro-benchmark of the wasm training kernels on the small CNN's shapes (batch 32, 64 px): forward conv
// vs our filter gradient, tfjs-wasm's MaxPoolGrad vs ours, batch norm as backend kernels vs JS loops.
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
  // tfjs-wasm's own kernel (ours replaces it in the registry)
  const { maxPoolGradConfig } = await import('@tensorflow/tfjs-backend-wasm/dist/kernels/MaxPoolGrad.js' as string);
  maxPoolGradConfig.setupFunc(b);
  time('MaxPoolGrad tfjs-wasm 64x64x32', () => maxPoolGradConfig.kernelFunc({ inputs: { dy, input: x }, backend: b, attrs }));
  time('MaxPoolGrad ours 64x64x32', () => maxPoolGrad({ inputs: { dy, input: x }, backend: b, attrs }));
}
{
  // batch norm (training) forward + backward on the 64x64x32 activation: the layer (backend kernels,
  // batch-norm-ops.ts) vs the float64 JS loops it replaced (batchNormForward/Backward, kept as the reference)
  const { FastBatchNormalization, batchNormForward, batchNormBackward } = await import('../src/ml/layers/batch-norm.ts');
  const layer = new FastBatchNormalization({ momentum: 0.9, epsilon: 1e-5 }) as unknown as tf.layers.Layer;
  layer.apply(tf.input({ shape: [64, 64, 32] }));
  const x = tf.randomNormal([32, 64, 64, 32], 1, 2, 'float32', 1);
  const dy = tf.randomNormal([32, 64, 64, 32], 0, 1, 'float32', 2);
  const run = () => tf.tidy(() => void tf.grad((t: tf.Tensor) => layer.apply(t, { training: true }) as tf.Tensor)(x, dy).dataSync()); // void: tidy would walk a returned typed array
  const loops = () => {
    const m = 32 * 64 * 64, gamma = new Float32Array(32).fill(1), beta = new Float32Array(32);
    const xv = x.dataSync();
    const f = batchNormForward(xv, m, 32, gamma, beta, 1e-5);
    tf.dispose(tf.tensor(f.y, x.shape));
    const back = batchNormBackward(dy.dataSync(), xv, m, 32, gamma, f.mean, f.invStd);
    tf.dispose(tf.tensor(back.dx, x.shape));
  };
  for (const [label, f] of [['BN fwd+bwd layer (backend kernels) 64x64x32', run], ['BN fwd+bwd float64 JS loops + copies 64x64x32', loops]] as const) {
    f();
    const t = performance.now();
    for (let i = 0; i < 3; i++) f();
    console.log(`${label.padEnd(60)} ${((performance.now() - t) / 3).toFixed(1).padStart(8)} ms`);
  }
}
