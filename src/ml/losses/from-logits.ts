import * as tf from '../tf.ts';

/**
 * The losses of losses.ts computed from the logits z ([n, c]) under the model's final sigmoid / softmax, each
 * with its gradient at z written out (tf.customGrad): no clipping, so an output saturated on the wrong side
 * keeps a gradient, and no 0 * inf where tfjs's derivatives of max, |z| or t^(gamma - 1) would give one. The
 * ONNX training graph emits the same formulas (onnx/training/losses/*-logits.ts).
 */
export type FromLogits = (y: tf.Tensor2D, z: tf.Tensor2D) => tf.Scalar;

export function weighted(perElement: tf.Tensor2D, classWeights?: readonly number[]): tf.Tensor2D {
  return classWeights ? tf.mul(perElement, tf.tensor1d(classWeights as number[])) : perElement;
}

/** softplus(x) = log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), without overflow; -log sigmoid(-x). */
const softplus = (x: tf.Tensor) => tf.add(tf.relu(x), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));

/** A loss of (y, z) whose value and gradient at z (before the upstream scale) are computed separately. */
function withGradient(value: (y: tf.Tensor2D, z: tf.Tensor2D) => tf.Scalar, gradient: (y: tf.Tensor2D, z: tf.Tensor2D) => tf.Tensor2D): FromLogits {
  return (y, z) =>
    tf.tidy(() => {
      // customGrad's inputs are typed (Tensor | GradSaveFunc)[]: the last argument is the save function
      const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const [zz, yy] = args as tf.Tensor2D[];
        (args[2] as tf.GradSaveFunc)([zz, yy]);
        return {
          value: value(yy, zz),
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
            const [sz, sy] = saved as tf.Tensor2D[];
            return [tf.mul(gradient(sy, sz), dy), tf.zerosLike(sy)];
          },
        };
      });
      return loss(z, y) as tf.Scalar;
    });
}

/**
 * BCE as PyTorch's BCEWithLogitsLoss: mean over n*c of w (max(z, 0) - z y + log(1 + e^-|z|)), gradient
 * w (sigmoid(z) - y) / (n c) (tfjs's gradients of max and |z| are 0 at z = 0, where the true one is 1/2 - y).
 */
export function binaryCrossEntropyFromLogits(classWeights?: readonly number[]): FromLogits {
  return withGradient(
    (y, z) => tf.mean(weighted(tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z))))) as tf.Tensor2D, classWeights)),
    (y, z) => tf.div(weighted(tf.sub(tf.sigmoid(z), y) as tf.Tensor2D, classWeights), z.size),
  );
}

/**
 * One focusing term of the sigmoid losses, f(x) = t^gamma softplus(x) = t^gamma (-log(1 - t)) with
 * t = sigmoid(x) the probability of the wrong side (x = -z for a positive, x = z for a negative), and
 * df/dx = t^gamma (gamma u softplus(x) + t) with u = sigmoid(-x) = 1 - t (dt/dx = t u, softplus' = t):
 * no t^(gamma - 1), so no 0 * inf at t = 0 for gamma < 1.
 */
function focusing(x: tf.Tensor, gamma: number): { value: tf.Tensor; derivative: tf.Tensor } {
  const t = tf.sigmoid(x);
  const u = tf.sigmoid(tf.neg(x));
  const sp = softplus(x);
  const tg = tf.pow(t, gamma);
  return { value: tf.mul(tg, sp), derivative: tf.mul(tg, tf.add(tf.mul(tf.mul(u, sp), gamma), t)) };
}

/**
 * Sigmoid focal loss as torchvision.ops.sigmoid_focal_loss on 0/1 targets, mean over n*c of
 * w (alpha y (1-p)^g (-log p) + (1-alpha)(1-y) p^g (-log(1-p))) with -log p = softplus(-z),
 * -log(1-p) = softplus(z); linear in y, so soft targets weigh the two terms (torchvision's form is not
 * linear in y: alpha_t and p_t mix the targets inside the power).
 */
export function sigmoidFocalFromLogits(alpha: number, gamma: number, classWeights?: readonly number[]): FromLogits {
  const terms = (y: tf.Tensor2D, z: tf.Tensor2D) => {
    const pos = focusing(tf.neg(z), gamma);
    const neg = focusing(z, gamma);
    const a = tf.mul(y, alpha);
    const b = tf.mul(tf.sub(1, y), 1 - alpha);
    return { a, b, pos, neg };
  };
  return withGradient(
    (y, z) => {
      const { a, b, pos, neg } = terms(y, z);
      return tf.mean(weighted(tf.add(tf.mul(a, pos.value), tf.mul(b, neg.value)) as tf.Tensor2D, classWeights));
    },
    (y, z) => {
      const { a, b, pos, neg } = terms(y, z);
      return tf.div(weighted(tf.sub(tf.mul(b, neg.derivative), tf.mul(a, pos.derivative)) as tf.Tensor2D, classWeights), z.size);
    },
  );
}

/**
 * Softmax focal loss, mean over n of -alpha sum_c w_c y_c (1-p_c)^g log p_c with log p = log_softmax(z).
 * Gradient -alpha (a - p sum_c a_c) / n with a = w y ((1-p)^g - g p log p (1-p)^(g-1)); the second term's
 * limit is 0 where 1 - p rounds to 0 (log p ~ -(1 - p)), and it is taken as 0 there.
 */
export function softmaxFocalFromLogits(alpha: number, gamma: number, classWeights?: readonly number[]): FromLogits {
  return withGradient(
    (y, z) => {
      const logP = tf.logSoftmax(z);
      const focus = tf.pow(tf.sub(1, tf.exp(logP)), gamma);
      return tf.mean(tf.sum(weighted(tf.mul(tf.mul(y, focus), logP) as tf.Tensor2D, classWeights), 1)).mul(-alpha) as tf.Scalar;
    },
    (y, z) => {
      const logP = tf.logSoftmax(z);
      const p = tf.exp(logP);
      const q = tf.sub(1, p);
      const positive = tf.greater(q, 0);
      const safeQ = tf.where(positive, q, tf.onesLike(q));
      const second = tf.where(positive, tf.mul(tf.mul(tf.mul(p, logP), gamma), tf.pow(safeQ, gamma - 1)), tf.zerosLike(q));
      const a = weighted(tf.mul(y, tf.sub(tf.pow(q, gamma), second)) as tf.Tensor2D, classWeights);
      const dz = tf.sub(a, tf.mul(p, tf.sum(a, 1, true)));
      return tf.mul(dz, -alpha / z.shape[0]) as tf.Tensor2D;
    },
  );
}

/**
 * Asymmetric loss (Ridnik et al. 2021), mean over n*c of w (y (1-p)^gp (-log p) + (1-y) m^gn (-log(1-m)))
 * with m = max(p - clip, 0), -log p = softplus(-z) exactly (the reference code clamps p at 1e-8), and
 * log(1 - m) = log(min(sigmoid(-z) + clip, 1)) (clip > 0: at least log(clip), never clamped there) or
 * -softplus(z) (clip = 0). The gradient of the negative term with clip > 0, where m > 0:
 * -(gn m^(gn-1) log(1-m) - m^gn / (1-m)) p (1-p); 0 where m = 0 (its limit for gn > 0; the kink at p = clip).
 */
export function asymmetricFromLogits(gammaNeg: number, gammaPos: number, clip: number, classWeights?: readonly number[]): FromLogits {
  const negative = (z: tf.Tensor2D): { value: tf.Tensor; derivative: tf.Tensor } => {
    if (clip <= 0) return focusing(z, gammaNeg);
    const p = tf.sigmoid(z);
    const u = tf.sigmoid(tf.neg(z));
    const inner = tf.minimum(tf.add(u, clip), 1);
    const logInner = tf.log(inner);
    const m = tf.maximum(tf.sub(p, clip), 0);
    const shifted = tf.greater(m, 0);
    const safeM = tf.where(shifted, m, tf.onesLike(m));
    const mg = tf.pow(m, gammaNeg);
    const dm = tf.sub(tf.mul(tf.mul(tf.pow(safeM, gammaNeg - 1), logInner), gammaNeg), tf.div(mg, inner));
    return { value: tf.neg(tf.mul(mg, logInner)), derivative: tf.where(shifted, tf.neg(tf.mul(dm, tf.mul(p, u))), tf.zerosLike(m)) };
  };
  return withGradient(
    (y, z) => {
      const pos = focusing(tf.neg(z), gammaPos);
      return tf.mean(weighted(tf.add(tf.mul(y, pos.value), tf.mul(tf.sub(1, y), negative(z).value)) as tf.Tensor2D, classWeights));
    },
    (y, z) => {
      const pos = focusing(tf.neg(z), gammaPos);
      return tf.div(weighted(tf.sub(tf.mul(tf.sub(1, y), negative(z).derivative), tf.mul(y, pos.derivative)) as tf.Tensor2D, classWeights), z.size);
    },
  );
}
