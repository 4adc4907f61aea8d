import * as tf from '../tf.ts';
import { asymmetricFromLogits, binaryCrossEntropyFromLogits, sigmoidFocalFromLogits, softmaxFocalFromLogits, weighted, type FromLogits } from './from-logits.ts';

/**
 * Losses on probabilities `p` ([n, c], the model's sigmoid/softmax output) and targets `y` ([n, c], 0/1 or
 * soft after label smoothing / mixup). Sigmoid-type losses (BCE, focal, ASL) average over all n*c
 * elements; cross-entropy sums over classes and averages over n. `classWeights` ([c]) scales each
 * class's terms (class-balanced loss).
 *
 * `logits`: the same loss computed from the logits z under the final `activation` (BCE, sigmoid focal and
 * ASL under a sigmoid; CE and softmax focal under a softmax; from-logits.ts), which training uses when the
 * model ends in that activation (training/objective.ts).
 * The probability form clips p at [EPSILON, 1 - EPSILON] and passes no gradient where it clips, so an
 * output saturated on the wrong side would stay there; the logits form has its gradient everywhere.
 */
export type LossFn = ((y: tf.Tensor2D, p: tf.Tensor2D) => tf.Scalar) & { logits?: LogitsLoss };

export interface LogitsLoss {
  activation: 'sigmoid' | 'softmax';
  /** The loss of targets `y` and logits `z` ([n, c]). */
  loss: FromLogits;
}

export const EPSILON = 1e-7;

const clipP = (p: tf.Tensor) => tf.clipByValue(p, EPSILON, 1 - EPSILON);

/** Binary cross-entropy: -(y log p + (1 - y) log(1 - p)); from the logits as PyTorch's BCEWithLogitsLoss. */
export function binaryCrossEntropy(classWeights?: readonly number[]): LossFn {
  const fromProbabilities = (y: tf.Tensor2D, p: tf.Tensor2D): tf.Scalar =>
    tf.tidy(() => {
      const q = clipP(p);
      const per = tf.neg(tf.add(tf.mul(y, tf.log(q)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, q))))) as tf.Tensor2D;
      return tf.mean(weighted(per, classWeights));
    });
  return Object.assign(fromProbabilities, { logits: { activation: 'sigmoid' as const, loss: binaryCrossEntropyFromLogits(classWeights) } });
}

/** Categorical cross-entropy: -sum_c y_c log p_c, averaged over the batch; from the logits with log_softmax(z) as PyTorch's CrossEntropyLoss. */
export function crossEntropy(classWeights?: readonly number[]): LossFn {
  const fromProbabilities = (y: tf.Tensor2D, p: tf.Tensor2D): tf.Scalar =>
    tf.tidy(() => {
      const per = tf.neg(tf.mul(y, tf.log(clipP(p)))) as tf.Tensor2D;
      return tf.mean(tf.sum(weighted(per, classWeights), 1));
    });
  const fromLogits = (y: tf.Tensor2D, z: tf.Tensor2D): tf.Scalar =>
    tf.tidy(() => {
      const per = tf.neg(tf.mul(y, tf.logSoftmax(z))) as tf.Tensor2D;
      return tf.mean(tf.sum(weighted(per, classWeights), 1));
    });
  return Object.assign(fromProbabilities, { logits: { activation: 'softmax' as const, loss: fromLogits } });
}

/**
 * Focal loss (Lin et al. 2017), sigmoid form: -alpha y (1-p)^gamma log p - (1-alpha)(1-y) p^gamma log(1-p).
 * With `softmax: true`: -sum_c alpha y_c (1-p_c)^gamma log p_c, averaged over the batch.
 */
export function focalLoss(options: { alpha?: number; gamma?: number; softmax?: boolean } = {}, classWeights?: readonly number[]): LossFn {
  const alpha = options.alpha ?? 0.25;
  const gamma = options.gamma ?? 2;
  const fromProbabilities = (y: tf.Tensor2D, p: tf.Tensor2D): tf.Scalar =>
    tf.tidy(() => {
      const q = clipP(p);
      const pos = tf.mul(tf.mul(y, tf.pow(tf.sub(1, q), gamma)), tf.log(q));
      if (options.softmax) return tf.mean(tf.sum(weighted(tf.mul(pos, -alpha) as tf.Tensor2D, classWeights), 1));
      const neg = tf.mul(tf.mul(tf.sub(1, y), tf.pow(q, gamma)), tf.log(tf.sub(1, q)));
      const per = tf.neg(tf.add(tf.mul(pos, alpha), tf.mul(neg, 1 - alpha))) as tf.Tensor2D;
      return tf.mean(weighted(per, classWeights));
    });
  const logits: LogitsLoss = options.softmax
    ? { activation: 'softmax', loss: softmaxFocalFromLogits(alpha, gamma, classWeights) }
    : { activation: 'sigmoid', loss: sigmoidFocalFromLogits(alpha, gamma, classWeights) };
  return Object.assign(fromProbabilities, { logits });
}

/**
 * Asymmetric loss (Ridnik et al. 2021) for multi-label: positives y (1-p)^gamma_pos log p, negatives
 * (1-y) p_m^gamma_neg log(1 - p_m) with the shifted probability p_m = max(p - clip, 0).
 */
export function asymmetricLoss(options: { gamma_neg?: number; gamma_pos?: number; clip?: number } = {}, classWeights?: readonly number[]): LossFn {
  const gammaNeg = options.gamma_neg ?? 4;
  const gammaPos = options.gamma_pos ?? 1;
  const clip = options.clip ?? 0.05;
  const fromProbabilities = (y: tf.Tensor2D, p: tf.Tensor2D): tf.Scalar =>
    tf.tidy(() => {
      const q = clipP(p);
      const shifted = clip > 0 ? tf.maximum(tf.sub(q, clip), 0) : q;
      const pos = tf.mul(tf.mul(y, tf.pow(tf.sub(1, q), gammaPos)), tf.log(q));
      const neg = tf.mul(tf.mul(tf.sub(1, y), tf.pow(shifted, gammaNeg)), tf.log(tf.clipByValue(tf.sub(1, shifted), EPSILON, 1)));
      return tf.mean(weighted(tf.neg(tf.add(pos, neg)) as tf.Tensor2D, classWeights));
    });
  return Object.assign(fromProbabilities, { logits: { activation: 'sigmoid' as const, loss: asymmetricFromLogits(gammaNeg, gammaPos, clip, classWeights) } });
}

/** Label smoothing: y (1 - eps) + eps / k, k = 2 for sigmoid targets, k = number of classes for softmax. */
export function smoothLabels(y: tf.Tensor2D, eps: number, softmax: boolean): tf.Tensor2D {
  if (eps <= 0) return y;
  const k = softmax ? y.shape[1] : 2;
  return tf.tidy(() => tf.add(tf.mul(y, 1 - eps), eps / k));
}
