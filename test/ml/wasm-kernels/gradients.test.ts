import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';

/** Seeded values in [-1, 1] as a plain array, so both backends see identical inputs. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

type GradFn = (inputs: tf.Tensor[]) => tf.Tensor;

/** Gradients of sum(f(inputs) * fixed random weights) w.r.t. every input, on the given backend. */
async function gradsOn(backend: string, shapes: number[][], f: GradFn): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const inputs = shapes.map((s, i) => tf.tensor(values(s.reduce((a, b) => a * b, 1), 17 + i), s));
    const outShape = f(inputs).shape;
    const weights = tf.tensor(values(outShape.reduce((a, b) => a * b, 1), 99), outShape);
    const g = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(xs), weights)));
    return g(inputs).map((t) => t.dataSync() as Float32Array);
  });
}

/** Max |wasm - cpu| relative to the largest cpu magnitude, for each input's gradient. */
async function relativeErrors(shapes: number[][], f: GradFn): Promise<number[]> {
  await initBackend('wasm');
  const wasm = await gradsOn('wasm', shapes, f);
  const cpu = await gradsOn('cpu', shapes, f);
  return cpu.map((ref, k) => {
    let maxDiff = 0, maxRef = 0;
    for (let i = 0; i < ref.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(wasm[k][i] - ref[i]));
      maxRef = Math.max(maxRef, Math.abs(ref[i]));
    }
    assert.equal(wasm[k].length, ref.length);
    assert.ok(maxRef > 0, 'reference gradient is all zeros: the case tests nothing');
    return maxDiff / maxRef;
  });
}

const cases: Array<{ n: number; h: number; w: number; ci: number; co: number; k: number; s: number; pad: 'same' | 'valid' }> = [
  { n: 2, h: 7, w: 7, ci: 3, co: 4, k: 3, s: 1, pad: 'same' },
  { n: 2, h: 7, w: 9, ci: 3, co: 5, k: 3, s: 2, pad: 'same' },
  { n: 1, h: 8, w: 8, ci: 1, co: 8, k: 3, s: 2, pad: 'valid' },
  { n: 3, h: 9, w: 6, ci: 5, co: 2, k: 5, s: 1, pad: 'valid' },
  { n: 2, h: 11, w: 11, ci: 4, co: 6, k: 7, s: 2, pad: 'same' },
  { n: 2, h: 6, w: 6, ci: 8, co: 16, k: 1, s: 2, pad: 'same' },
  { n: 2, h: 10, w: 10, ci: 6, co: 3, k: 2, s: 2, pad: 'valid' },
  { n: 1, h: 5, w: 5, ci: 2, co: 2, k: 3, s: 3, pad: 'same' },
];

const label = (c: (typeof cases)[number]) => `${c.n}x${c.h}x${c.w}x${c.ci} k${c.k} s${c.s} ${c.pad} -> ${c.co}`;

test('conv2d input and filter gradients on wasm equal cpu within 1e-4 relative', async () => {
  let worst = 0;
  for (const c of cases) {
    const errs = await relativeErrors([[c.n, c.h, c.w, c.ci], [c.k, c.k, c.ci, c.co]], ([x, f]) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.s, c.pad));
    for (const [k, e] of errs.entries()) assert.ok(e < 1e-4, `${label(c)} ${k === 0 ? 'dx' : 'dW'} relative error ${e}`);
    worst = Math.max(worst, ...errs);
  }
  console.log(`conv2d: worst relative error ${worst.toExponential(2)}`);
});

test('depthwise conv2d input and filter gradients on wasm equal cpu (multipliers 1 and 2)', async () => {
  let worst = 0;
  for (const c of cases) {
    for (const m of [1, 2]) {
      const errs = await relativeErrors([[c.n, c.h, c.w, c.ci], [c.k, c.k, c.ci, m]], ([x, f]) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.s, c.pad));
      for (const [k, e] of errs.entries()) assert.ok(e < 1e-4, `${label(c)} m${m} ${k === 0 ? 'dx' : 'dW'} relative error ${e}`);
      worst = Math.max(worst, ...errs);
    }
  }
  console.log(`depthwise: worst relative error ${worst.toExponential(2)}`);
});

test('gather gradient (UnsortedSegmentSum) on wasm equals cpu', async () => {
  const errs = await relativeErrors([[5, 3]], ([x]) => tf.gather(x, tf.tensor1d([4, 0, 4, 2, 1, 4], 'int32')));
  assert.ok(errs[0] < 1e-6, `relative error ${errs[0]}`);
});
