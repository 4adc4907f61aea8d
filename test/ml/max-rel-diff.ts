import type * as tf from '../../src/ml/tf.ts';

/** Largest absolute difference relative to the largest magnitude of `want` (tensors or plain arrays); the absolute difference when `want` is all zeros. */
export function maxRelDiff(got: tf.Tensor | ArrayLike<number>, want: tf.Tensor | ArrayLike<number>): number {
  const x = 'dataSync' in got ? got.dataSync() : got;
  const y = 'dataSync' in want ? want.dataSync() : want;
  let diff = 0, scale = 0;
  for (let i = 0; i < y.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return scale === 0 ? diff : diff / scale;
}
