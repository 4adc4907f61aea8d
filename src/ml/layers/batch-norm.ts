import * as tf from '../tf.ts';
import { batchNormTrainingOps } from './batch-norm-ops.ts';
import { isFoldedBatchNorm } from './conv-bn-fold.ts';

type LayerVar = { read(): tf.Tensor; write(t: tf.Tensor): void };
interface BatchNormInternals {
  gamma: LayerVar;
  beta: LayerVar;
  movingMean: LayerVar;
  movingVariance: LayerVar;
  momentum: number;
  epsilon: number;
  axis: number;
}

const BuiltinBatchNorm = (tf.layers.batchNormalization({}) as unknown as { constructor: new (args: object) => tf.layers.Layer }).constructor;

/**
 * Per-channel statistics and normalisation of an [m, c] row-major array, in float64 accumulators: the
 * reference the layer's kernel-based training path (`batch-norm-ops.ts`) is tested against.
 */
export function batchNormForward(x: ArrayLike<number>, m: number, c: number, gamma: ArrayLike<number>, beta: ArrayLike<number>, epsilon: number) {
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let i = 0, o = 0; i < m; i++, o += c) for (let k = 0; k < c; k++) mean[k] += x[o + k];
  for (let k = 0; k < c; k++) mean[k] /= m;
  for (let i = 0, o = 0; i < m; i++, o += c) {
    for (let k = 0; k < c; k++) {
      const d = x[o + k] - mean[k];
      variance[k] += d * d;
    }
  }
  const invStd = new Float64Array(c);
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    variance[k] /= m;
    invStd[k] = 1 / Math.sqrt(variance[k] + epsilon);
    scale[k] = gamma[k] * invStd[k];
    shift[k] = beta[k] - mean[k] * scale[k];
  }
  const y = new Float32Array(m * c);
  for (let i = 0, o = 0; i < m; i++, o += c) for (let k = 0; k < c; k++) y[o + k] = x[o + k] * scale[k] + shift[k];
  return { y, mean, variance, invStd };
}

/** Gradients of batch normalisation: dbeta = sum dy, dgamma = sum dy*xhat, dx = gamma*inv/m * (m*dy - dbeta - xhat*dgamma). */
export function batchNormBackward(dy: ArrayLike<number>, x: ArrayLike<number>, m: number, c: number, gamma: ArrayLike<number>, mean: Float64Array, invStd: Float64Array) {
  const dBeta = new Float64Array(c);
  const dGamma = new Float64Array(c);
  for (let i = 0, o = 0; i < m; i++, o += c) {
    for (let k = 0; k < c; k++) {
      const g = dy[o + k];
      dBeta[k] += g;
      dGamma[k] += g * (x[o + k] - mean[k]) * invStd[k];
    }
  }
  const a = new Float64Array(c);
  const b = new Float64Array(c);
  const d = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    const s = (gamma[k] * invStd[k]) / m;
    a[k] = s * m;
    // dx = s*(m*dy - dBeta - xhat*dGamma) = a*dy - s*dBeta - s*dGamma*invStd*(x - mean)
    b[k] = s * dGamma[k] * invStd[k];
    d[k] = -s * dBeta[k] + b[k] * mean[k];
  }
  const dx = new Float32Array(m * c);
  for (let i = 0, o = 0; i < m; i++, o += c) for (let k = 0; k < c; k++) dx[o + k] = a[k] * dy[o + k] - b[k] * x[o + k] + d[k];
  return { dx, dGamma: Float32Array.from(dGamma), dBeta: Float32Array.from(dBeta) };
}

/**
 * Keras/tfjs `BatchNormalization` (same class name, config and weights, so saved models load anywhere)
 * whose training mode uses the closed-form gradient of `batch-norm-ops.ts`. Inference is the built-in
 * path, or the identity when folded into the conv before it (`conv-bn-fold.ts`).
 */
export class FastBatchNormalization extends BuiltinBatchNorm {
  static className = 'BatchNormalization';

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as BatchNormInternals;
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    // Folded into the conv before it (inference only): that conv already applied the normalisation.
    if (!kwargs.training && isFoldedBatchNorm(this)) return tf.clone(input);
    const lastAxis = self.axis === -1 || self.axis === input.rank - 1;
    if (!kwargs.training || !lastAxis || !self.gamma || !self.beta) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTrainingOps(input, self.gamma.read() as tf.Tensor1D, self.beta.read() as tf.Tensor1D, self.epsilon);
      for (const [variable, value] of [[self.movingMean, mean], [self.movingVariance, variance]] as const) {
        tf.tidy(() => {
          const old = variable.read();
          variable.write(tf.sub(old, tf.mul(tf.sub(old, value), 1 - self.momentum)));
        });
      }
      tf.dispose([mean, variance]);
      return y;
    });
  }
}

tf.serialization.registerClass(FastBatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);

export function batchNormalization(args: { name: string; momentum: number; epsilon: number }): tf.layers.Layer {
  return new FastBatchNormalization(args);
}
