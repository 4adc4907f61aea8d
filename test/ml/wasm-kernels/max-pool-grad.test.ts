import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { maxPoolGrad } from '../../../src/ml/wasm-kernels/max-pool-grad.ts';
import type { WasmBackend } from '../../../src/ml/wasm-kernels/kernel-call.ts';

/** Seeded values rounded to tenths and ReLU'd, so windows have ties (equal values, all-zero windows). */
function tiedValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = Math.max(0, Math.round(((s / 2 ** 32) * 2 - 1) * 10) / 10);
  }
  return out;
}

const cases = [
  { shape: [2, 8, 8, 3], size: 2, stride: 2, pad: 'same' as const },
  { shape: [2, 7, 9, 4], size: 2, stride: 2, pad: 'same' as const },
  { shape: [1, 9, 9, 2], size: 3, stride: 2, pad: 'same' as const },
  { shape: [2, 7, 7, 5], size: 3, stride: 2, pad: 'valid' as const },
  { shape: [1, 6, 5, 3], size: 3, stride: 1, pad: 'same' as const },
];

for (const c of cases) {
  test(`max pool gradient ${c.shape.join('x')} size ${c.size} stride ${c.stride} ${c.pad}: equals the cpu backend's, ties included`, async () => {
    const xValues = tiedValues(c.shape.reduce((a, b) => a * b), 5);
    await initBackend('cpu');
    const { expected, dyShape, dyValues } = tf.tidy(() => {
      const x = tf.tensor4d(xValues, c.shape as [number, number, number, number]);
      const outShape = tf.maxPool(x, c.size, c.stride, c.pad).shape;
      const dy = tf.randomNormal(outShape, 0, 1, 'float32', 3);
      const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, c.size, c.stride, c.pad), dy)))(x);
      return { expected: dx.dataSync().slice(), dyShape: outShape, dyValues: dy.dataSync().slice() };
    });
    await initBackend('wasm');
    const x = tf.tensor4d(xValues, c.shape as [number, number, number, number]);
    const dy = tf.tensor(dyValues, dyShape);
    const backend = tf.engine().backend as unknown as WasmBackend;
    const out = maxPoolGrad({ inputs: { dy, input: x }, backend, attrs: { filterSize: c.size, strides: c.stride, pad: c.pad } });
    const got = backend.readSync(out.dataId) as Float32Array;
    backend.disposeData(out.dataId);
    tf.dispose([x, dy]);
    assert.equal(got.length, expected.length);
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected[i]));
    assert.ok(maxDiff < 1e-6, `max |diff| ${maxDiff}`);
    assert.ok(expected.some((v) => v !== 0));
  });
}
