import * as tf from '../tf.ts';

/**
 * Losses on probabilities `p` ([n, c], the model's sigmoid/softmax output) and targets `y` ([n, c], 0/1 or
 * soft after label smoothing / mixup). Sigmoid-type losses (BCE, focal, ASL) average over all n*c
 * elements; cross-entropy sums over classes and averages over n. `classWeights` ([c]) scales each
 * class's terms (class-balanced loss).
 *
 * `logits`: the same loss computed from the logits z under the final `activation` (BCE under a sigmoid, CE
 * under a softmax), which training uses when the model ends in that activation (training/objective.ts).
 * The probability form clips p at [EPSILON, 1 - EPSILON] and passes no gradient where it clips, so an
 * output saturated on the wrong side would stay there; the logits form has its gradient everywhere.
 */
export type LossFn = ((y: tf.Tensor2D, p: tf.Tensor2D) => tf.Scalar) & { logits?: LogitsLoss };

export interface LogitsLoss {
  activation: 'sigmoid' | 'softmax';
  /** The loss of targets `y` and logits `z` ([n, c]). */
  loss(y: tf.Tensor2D, z: tf.Tensor2D): tf.Scalar;
}

export const EPSILON = 1e-7;

const clipP = (p: tf.Tensor) => tf.clipByValue(p, EPSILON, 1 - EPSILON);

function weighted(perElement: tf.Tensor2D, classWeights?: readonly number[]): tf.Tensor2D {
  return classWeights ? tf.mul(perElement, tf.tensor1d(classWeights as number[])) : perElement;
}

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

/**
 * Mean over n*c of w_c (max(z, 0) - z y + log(1 + exp(-|z|))), which is -(y log s + (1-y) log(1-s)) with
 * s = sigmoid(z) without overflow, and its gradient w_c (sigmoid(z) - y) / (n c) written out: tfjs's
 * gradients of max and |z| are 0 at z = 0, where the true gradient is 1/2 - y.
 */
function binaryCrossEntropyFromLogits(classWeights?: readonly number[]): LogitsLoss['loss'] {
  return (y, z) =>
    tf.tidy(() => {
      // customGrad's inputs are typed (Tensor | GradSaveFunc)[]: the last argument is the save function
      const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const [zz, yy] = args as tf.Tensor2D[];
        (args[2] as tf.GradSaveFunc)([zz, yy]);
        const per = tf.add(tf.sub(tf.relu(zz), tf.mul(zz, yy)), tf.log1p(tf.exp(tf.neg(tf.abs(zz))))) as tf.Tensor2D;
        return {
          value: tf.mean(weighted(per, classWeights)),
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
            const [sz, sy] = saved as tf.Tensor2D[];
            const dz = tf.div(tf.mul(weighted(tf.sub(tf.sigmoid(sz), sy) as tf.Tensor2D, classWeights), dy), sz.size);
            return [dz, tf.zerosLike(sy)];
          },
        };
      });
      return loss(z, y) as tf.Scalar;
    });
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
  return (y, p) =>
    tf.tidy(() => {
      const q = clipP(p);
      const pos = tf.mul(tf.mul(y, tf.pow(tf.sub(1, q), gamma)), tf.log(q));
      if (options.softmax) return tf.mean(tf.sum(weighted(tf.mul(pos, -alpha) as tf.Tensor2D, classWeights), 1));
      const neg = tf.mul(tf.mul(tf.sub(1, y), tf.pow(q, gamma)), tf.log(tf.sub(1, q)));
      const per = tf.neg(tf.add(tf.mul(pos, alpha), tf.mul(neg, 1 - alpha))) as tf.Tensor2D;
      return tf.mean(weighted(per, classWeights));
    });
}

/**
 * Asymmetric loss (Ridnik et al. 2021) for multi-label: positives y (1-p)^gamma_pos log p, negatives
 * (1-y) p_m^gamma_neg log(1 - p_m) with the shifted probability p_m = max(p - clip, 0).
 */
export function asymmetricLoss(options: { gamma_neg?: number; gamma_pos?: number; clip?: number } = {}, classWeights?: readonly number[]): LossFn {
  const gammaNeg = options.gamma_neg ?? 4;
  const gammaPos = options.gamma_pos ?? 1;
  const clip = options.clip ?? 0.05;
  return (y, p) =>
    tf.tidy(() => {
      const q = clipP(p);
      const shifted = clip > 0 ? tf.maximum(tf.sub(q, clip), 0) : q;
      const pos = tf.mul(tf.mul(y, tf.pow(tf.sub(1, q), gammaPos)), tf.log(q));
      const neg = tf.mul(tf.mul(tf.sub(1, y), tf.pow(shifted, gammaNeg)), tf.log(tf.clipByValue(tf.sub(1, shifted), EPSILON, 1)));
      return tf.mean(weighted(tf.neg(tf.add(pos, neg)) as tf.Tensor2D, classWeights));
    });
}

/** Label smoothing: y (1 - eps) + eps / k, k = 2 for sigmoid targets, k = number of classes for softmax. */
export function smoothLabels(y: tf.Tensor2D, eps: number, softmax: boolean): tf.Tensor2D {
  if (eps <= 0) return y;
  const k = softmax ? y.shape[1] : 2;
  return tf.tidy(() => tf.add(tf.mul(y, 1 - eps), eps / k));
}
