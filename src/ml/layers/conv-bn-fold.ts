import * as tf from '../tf.ts';

type LayerVar = { read(): tf.Tensor };
interface BnWeights {
  gamma?: LayerVar | null;
  beta?: LayerVar | null;
  movingMean: LayerVar;
  movingVariance: LayerVar;
  epsilon: number;
  axis: number;
}
interface ConvWeights {
  kernel: LayerVar;
  bias?: LayerVar | null;
}

/**
 * Inference-time folding of a batch norm into the convolution that feeds it: the conv layer computes
 * conv(x, W * s) + (b * s + beta - mean * s) with s = gamma / sqrt(var + eps) as ONE fused conv (bias
 * added inside XNNPACK), and the batch norm passes its input through. Training mode is untouched (the
 * batch statistics are needed there). Pairs are linked per model by `foldConvBatchNorms`
 * (`fold-model.ts`).
 */
const foldedBn = new WeakMap<tf.layers.Layer, tf.layers.Layer>();
const foldedConv = new WeakSet<tf.layers.Layer>();

/** The batch norm folded into this conv layer's inference output, if any. */
export function batchNormFoldedInto(conv: tf.layers.Layer): tf.layers.Layer | undefined {
  return foldedBn.get(conv);
}

/** Whether this batch norm layer is folded into the conv before it (then it is the identity at inference). */
export function isFoldedBatchNorm(bn: tf.layers.Layer): boolean {
  return foldedConv.has(bn);
}

/** Links a (LeanConv2D, FastBatchNormalization) pair: see `foldConvBatchNorms` in `fold-model.ts`. */
export function linkConvBatchNorm(conv: tf.layers.Layer, bn: tf.layers.Layer): void {
  foldedBn.set(conv, bn);
  foldedConv.add(bn);
}

/** Undoes the folding of this conv layer's pair (e.g. when the conv's own output is needed). */
export function unfoldConv(conv: tf.layers.Layer): void {
  const bn = foldedBn.get(conv);
  if (!bn) return;
  foldedBn.delete(conv);
  foldedConv.delete(bn);
}

/** Filter and bias of the conv with the batch norm (inference statistics) folded in. */
export function foldedFilterAndBias(conv: tf.layers.Layer, bn: tf.layers.Layer): { filter: tf.Tensor4D; bias: tf.Tensor1D } {
  const c = conv as unknown as ConvWeights;
  const n = bn as unknown as BnWeights;
  return tf.tidy(() => {
    const mean = n.movingMean.read();
    const invStd = tf.rsqrt(tf.add(n.movingVariance.read(), n.epsilon));
    const scale = n.gamma ? tf.mul(n.gamma.read(), invStd) : invStd;
    const filter = tf.mul(c.kernel.read(), scale) as tf.Tensor4D;
    let shift = tf.neg(tf.mul(mean, scale));
    if (n.beta) shift = tf.add(shift, n.beta.read());
    if (c.bias) shift = tf.add(shift, tf.mul(c.bias.read(), scale));
    return { filter, bias: shift as tf.Tensor1D };
  });
}
