import * as tf from '../tf.ts';
import { TARGET_CENTERNESS, TARGET_CLASS_OFFSET, TARGET_POSITIVE } from './assign.ts';
import { CENTERNESS_CHANNEL, CLASS_OFFSET } from './detector.ts';

export interface DetectionLossOptions {
  /** Focal loss weight of positives (default .25) and focusing exponent (default 2). */
  alpha: number;
  gamma: number;
  /** Weight of the GIoU term (default 1). */
  boxWeight: number;
}

export const defaultDetectionLoss: DetectionLossOptions = { alpha: 0.25, gamma: 2, boxWeight: 1 };

/** Anchor point coordinates as tensors [A]. */
export interface AnchorTensors {
  cx: tf.Tensor1D;
  cy: tf.Tensor1D;
  stride: tf.Tensor1D;
}

export interface DetectionLossTerms {
  total: tf.Scalar;
  cls: tf.Scalar;
  box: tf.Scalar;
  ctr: tf.Scalar;
}

/**
 * The FCOS loss on raw outputs `pred` [N, A, 5 + C] and assigned targets [N, A, 6 + C] (assign.ts),
 * normalised over the batch (P = max(1, number of positive points)):
 *   cls = sum over points and classes of sigmoid focal loss (alpha, gamma) / P
 *   box = boxWeight * sum over positives of w * (1 - GIoU(pred box, target box)) / sum of w, w = centerness target
 *   ctr = sum over positives of BCE(sigmoid(centerness logit), centerness target) / P
 * Predicted box of a point (cx, cy, stride): distances l, t, r, b = exp(raw) * stride from the point.
 */
export function detectionLoss(pred: tf.Tensor3D, target: tf.Tensor3D, anchors: AnchorTensors, options: DetectionLossOptions = defaultDetectionLoss): DetectionLossTerms {
  return tf.tidy(() => {
    const classes = pred.shape[2] - CLASS_OFFSET;
    const logits = pred.slice([0, 0, CLASS_OFFSET], [-1, -1, classes]);
    const y = target.slice([0, 0, TARGET_CLASS_OFFSET], [-1, -1, classes]);
    const positive = target.slice([0, 0, TARGET_POSITIVE], [-1, -1, 1]).squeeze([2]);
    const ctrTarget = target.slice([0, 0, TARGET_CENTERNESS], [-1, -1, 1]).squeeze([2]);
    const count = tf.maximum(positive.sum(), 1);

    const cls = tf.div(focalLossWithLogits(logits, y, options.alpha, options.gamma).sum(), count) as tf.Scalar;

    const giou = giouOf(pred, target, anchors);
    const w = tf.mul(positive, ctrTarget);
    const box = tf.mul(tf.div(tf.mul(w, tf.sub(1, giou)).sum(), tf.maximum(w.sum(), 1e-6)), options.boxWeight) as tf.Scalar;

    const ctrLogit = pred.slice([0, 0, CENTERNESS_CHANNEL], [-1, -1, 1]).squeeze([2]);
    const ctr = tf.div(tf.mul(positive, bceWithLogits(ctrLogit, ctrTarget)).sum(), count) as tf.Scalar;
    return { total: tf.addN([cls, box, ctr]) as tf.Scalar, cls, box, ctr };
  });
}

/** softplus(x) - y * x = -(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))), stable for any x. */
export function bceWithLogits(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.sub(tf.softplus(x), tf.mul(y, x));
}

/** Sigmoid focal loss per element (Lin et al. 2017): alpha_t (1 - p_t)^gamma BCE. */
export function focalLossWithLogits(x: tf.Tensor, y: tf.Tensor, alpha: number, gamma: number): tf.Tensor {
  const p = tf.sigmoid(x);
  const pT = tf.add(tf.mul(p, y), tf.mul(tf.sub(1, p), tf.sub(1, y)));
  const alphaT = tf.add(tf.mul(y, alpha), tf.mul(tf.sub(1, y), 1 - alpha));
  return tf.mul(tf.mul(alphaT, tf.pow(tf.sub(1, pT), gamma)), bceWithLogits(x, y));
}

/** GIoU [N, A] between each point's predicted box and its target box (meaningful where positive). */
export function giouOf(pred: tf.Tensor3D, target: tf.Tensor3D, anchors: AnchorTensors): tf.Tensor2D {
  const dist = tf.mul(tf.exp(pred.slice([0, 0, 0], [-1, -1, 4])), anchors.stride.reshape([1, -1, 1]));
  const [l, t, r, b] = tf.split(dist, 4, 2).map((d) => d.squeeze([2]));
  const cx = anchors.cx.reshape([1, -1]);
  const cy = anchors.cy.reshape([1, -1]);
  const px0 = tf.sub(cx, l), py0 = tf.sub(cy, t), px1 = tf.add(cx, r), py1 = tf.add(cy, b);
  const [gx0, gy0, gx1, gy1] = tf.split(target.slice([0, 0, 0], [-1, -1, 4]), 4, 2).map((d) => d.squeeze([2]));
  const areaP = tf.mul(tf.add(l, r), tf.add(t, b));
  const areaG = tf.mul(tf.sub(gx1, gx0), tf.sub(gy1, gy0));
  const iw = tf.relu(tf.sub(tf.minimum(px1, gx1), tf.maximum(px0, gx0)));
  const ih = tf.relu(tf.sub(tf.minimum(py1, gy1), tf.maximum(py0, gy0)));
  const inter = tf.mul(iw, ih);
  const union = tf.add(tf.sub(tf.add(areaP, areaG), inter), 1e-7);
  const enclose = tf.add(tf.mul(tf.sub(tf.maximum(px1, gx1), tf.minimum(px0, gx0)), tf.sub(tf.maximum(py1, gy1), tf.minimum(py0, gy0))), 1e-7);
  return tf.sub(tf.div(inter, union), tf.div(tf.sub(enclose, union), enclose)) as tf.Tensor2D;
}
