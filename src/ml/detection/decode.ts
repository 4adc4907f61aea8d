import type { Box } from '../../data-model.ts';
import { nonMaximumSuppression, OrderedHardNms, type NmsMethod } from '../../ops/boxes/nms.ts';
import { DescendingOrder } from './descending-order.ts';
import type { AnchorPoints } from './assign.ts';
import { CENTERNESS_CHANNEL, CLASS_OFFSET } from './detector.ts';

export interface DecodeOptions {
  /** Boxes scoring below this are dropped before NMS (default .05). */
  scoreThr: number;
  /** Class-wise NMS IoU threshold (default .6). */
  iouThr: number;
  /** `hard` NMS, or soft-NMS `linear` / `gaussian` (Bodla et al. 2017), as src/ops/boxes/nms.ts. */
  nms: NmsMethod;
  /** Gaussian sigma of soft-NMS (default .5). */
  sigma: number;
  /** Most candidates per image entering NMS, by score (default 1000). */
  preNms: number;
  /** Most boxes kept per image (default 100). */
  maxDet: number;
}

export const defaultDecode: DecodeOptions = { scoreThr: 0.05, iouThr: 0.6, nms: 'hard', sigma: 0.5, preNms: 1000, maxDet: 100 };

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/** Distances larger than e^12 strides are clamped (an untrained model's outliers). */
const MAX_LOG_DISTANCE = 12;

/**
 * One image's raw `detections` [A, 5 + C] to scored boxes in the model's input pixels: score of class k at a
 * point = sqrt(sigmoid(class logit) * sigmoid(centerness logit)) (FCOS), box = point -+ exp(raw) * stride;
 * candidates above `scoreThr` (NaN scores dropped), the best `preNms` by score (ties in point, class order),
 * class-wise NMS (src/ops/boxes/nms.ts), the best `maxDet`.
 * A trained detector has a candidate at almost every point and class (BCCD: 2,900 of 3,000), and one object
 * per candidate, a full sort and the generic NMS took 15 % of the inference time: here the scores are a typed
 * array, candidates leave a heap best first into an incremental hard NMS that stops at `maxDet` kept, and
 * only those pulled get coordinates (test/ml/detection/decode-equivalence.test.ts: the same boxes as the
 * straightforward version). Soft-NMS decays scores, so it takes the `preNms` best through the generic NMS.
 */
export function decodeDetections(raw: Float32Array, points: AnchorPoints, classes: readonly string[], options: DecodeOptions = defaultDecode): Box[] {
  const nc = classes.length;
  const k = CLASS_OFFSET + nc;
  if (raw.length !== points.count * k) throw new Error(`decode: ${raw.length} values for ${points.count} points x ${k}`);
  const scores = new Float64Array(points.count * nc);
  const ids = new Uint32Array(points.count * nc);
  let m = 0;
  for (let a = 0; a < points.count; a++) {
    const o = a * k;
    const ctr = sigmoid(raw[o + CENTERNESS_CHANNEL]);
    for (let c = 0; c < nc; c++) {
      const score = Math.sqrt(sigmoid(raw[o + CLASS_OFFSET + c]) * ctr);
      if (!(score >= options.scoreThr)) continue;
      scores[a * nc + c] = score;
      ids[m++] = a * nc + c;
    }
  }
  const order = new DescendingOrder(scores, ids.subarray(0, m));
  const box = (id: number): Box => {
    const a = Math.floor(id / nc);
    const o = a * k;
    const s = points.stride[a];
    const x_min = points.cx[a] - Math.exp(Math.min(raw[o], MAX_LOG_DISTANCE)) * s;
    const y_min = points.cy[a] - Math.exp(Math.min(raw[o + 1], MAX_LOG_DISTANCE)) * s;
    const x_max = points.cx[a] + Math.exp(Math.min(raw[o + 2], MAX_LOG_DISTANCE)) * s;
    const y_max = points.cy[a] + Math.exp(Math.min(raw[o + 3], MAX_LOG_DISTANCE)) * s;
    return { label: classes[id % nc], score: scores[id], x_min, y_min, x_max, y_max };
  };
  const pull = Math.min(m, options.preNms);
  if (options.nms !== 'hard') {
    const candidates = Array.from({ length: pull }, () => box(order.next()) as Box & { score: number });
    return nonMaximumSuppression(candidates, { method: options.nms, iouThr: options.iouThr, sigma: options.sigma, maxDet: options.maxDet });
  }
  const maxDet = Math.max(0, Math.min(options.maxDet, pull));
  const nms = new OrderedHardNms(options.iouThr, maxDet);
  const kept: Box[] = [];
  for (let pulled = 0; pulled < pull && kept.length < maxDet; pulled++) {
    const id = order.next();
    const b = box(id);
    if (nms.offer(id % nc, b.x_min, b.y_min, b.x_max, b.y_max)) kept.push(b);
  }
  return kept;
}
