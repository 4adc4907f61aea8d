import * as tf from '../tf.ts';

/** Rows per partial sum: column sums run as [blocks, 1, rows] x [blocks, rows, c] products, then add the blocks (shorter float32 chains). */
const ROWS_PER_BLOCK = 2048;

/** Per-column sums of an [m, c] matrix as a (batched) matrix product with ones: no transpose of the big operand. */
function columnSums(x2: tf.Tensor2D): tf.Tensor1D {
  const [m, c] = x2.shape;
  const blocks = Math.max(1, Math.floor(m / ROWS_PER_BLOCK));
  if (blocks === 1 || m % blocks !== 0) return tf.matMul(tf.ones([1, m]), x2).reshape([c]) as tf.Tensor1D;
  const rows = m / blocks;
  const partial = tf.matMul(tf.ones([blocks, 1, rows]), x2.reshape([blocks, rows, c])) as tf.Tensor3D;
  return tf.sum(partial.reshape([blocks, c]), 0) as tf.Tensor1D;
}

/**
 * Training-mode batch normalisation over all axes but the last with the closed-form gradient, built from
 * whole-tensor backend kernels (matrix-product column sums, broadcast multiply/add): SIMD on wasm, with
 * no transposes or tiles. Returns the output and the batch statistics (biased variance).
 */
export function batchNormTrainingOps(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const c = x.shape[x.shape.length - 1];
  const m = x.size / c;
  let mean!: tf.Tensor1D;
  let variance!: tf.Tensor1D;
  const op = tf.customGrad(((xIn: tf.Tensor, g: tf.Tensor1D, b: tf.Tensor1D, save: (ts: tf.Tensor[]) => void) => {
    const x2 = xIn.reshape([m, c]) as tf.Tensor2D;
    // kept: the forward's intermediates are disposed when it returns; the caller owns the statistics
    mean = tf.keep(tf.div(columnSums(x2), m) as tf.Tensor1D);
    const centred = tf.sub(x2, mean) as tf.Tensor2D;
    variance = tf.keep(tf.div(columnSums(tf.square(centred) as tf.Tensor2D), m) as tf.Tensor1D);
    const invStd = tf.rsqrt(tf.add(variance, epsilon)) as tf.Tensor1D;
    const y = tf.add(tf.mul(centred, tf.mul(g, invStd)), b).reshape(xIn.shape);
    save([centred, invStd, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xc, inv, gam] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
        const dy2 = (dy as tf.Tensor).reshape([m, c]) as tf.Tensor2D;
        const dBeta = columnSums(dy2);
        const dyXc = columnSums(tf.mul(dy2, xc) as tf.Tensor2D);
        const dGamma = tf.mul(dyXc, inv) as tf.Tensor1D;
        // dx = gamma*inv/m * (m*dy - dBeta - xhat*dGamma) = a*dy - k*xc - d
        const a = tf.mul(gam, inv);
        const k = tf.div(tf.mul(tf.mul(a, dyXc), tf.square(inv)), m);
        const d = tf.div(tf.mul(a, dBeta), m);
        const dx = tf.sub(tf.sub(tf.mul(dy2, a), tf.mul(xc, k)), d).reshape(xIn.shape);
        return [dx, dGamma, dBeta];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const y = op(x, gamma, beta);
  return { y, mean, variance };
}
