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
  releaseFolded(conv);
}

interface Folded {
  /** Data ids of the weights the folded tensors were computed from (a variable write replaces its id). */
  sources: object[];
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
}
const cache = new WeakMap<tf.layers.Layer, Folded>();

/** Frees the cached folded weights of a conv layer (on unfolding or disposal). */
export function releaseFolded(conv: tf.layers.Layer): void {
  const folded = cache.get(conv);
  if (!folded) return;
  tf.dispose([folded.filter, folded.bias]);
  cache.delete(conv);
}

/**
 * Filter and bias of the conv with the batch norm (inference statistics) folded in, cached until one of
 * the weights changes: new filter tensors per call would also make XNNPACK repack its weights every
 * time (which cost more than the batch norm saved on ResNet-18). Owned by the cache: do not dispose.
 */
export function foldedFilterAndBias(conv: tf.layers.Layer, bn: tf.layers.Layer): { filter: tf.Tensor4D; bias: tf.Tensor1D } {
  const c = conv as unknown as ConvWeights;
  const n = bn as unknown as BnWeights;
  const weights = [c.kernel, c.bias, n.gamma, n.beta, n.movingMean, n.movingVariance].map((v) => (v ? v.read() : null));
  const sources = weights.map((t) => (t ? t.dataId : null)) as object[];
  const cached = cache.get(conv);
  if (cached && cached.sources.every((id, i) => id === sources[i])) return cached;
  releaseFolded(conv);
  const [kernel, bias, gamma, beta, mean, variance] = weights;
  const folded = tf.tidy(() => {
    const invStd = tf.rsqrt(tf.add(variance!, n.epsilon));
    const scale = gamma ? tf.mul(gamma, invStd) : invStd;
    let shift = tf.neg(tf.mul(mean!, scale));
    if (beta) shift = tf.add(shift, beta);
    if (bias) shift = tf.add(shift, tf.mul(bias, scale));
    return { filter: tf.keep(tf.mul(kernel!, scale) as tf.Tensor4D), bias: tf.keep(shift as tf.Tensor1D) };
  });
  cache.set(conv, { sources, ...folded });
  return folded;
}
