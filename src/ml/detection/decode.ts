import type { Box } from '../../data-model.ts';
import { nonMaximumSuppression, type NmsMethod } from '../../ops/boxes/nms.ts';
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
 * candidates above `scoreThr` (at most `preNms`), class-wise NMS (src/ops/boxes/nms.ts), the best `maxDet`.
 */
export function decodeDetections(raw: Float32Array, points: AnchorPoints, classes: readonly string[], options: DecodeOptions = defaultDecode): Box[] {
  const k = CLASS_OFFSET + classes.length;
  if (raw.length !== points.count * k) throw new Error(`decode: ${raw.length} values for ${points.count} points x ${k}`);
  const candidates: Box[] = [];
  for (let a = 0; a < points.count; a++) {
    const o = a * k;
    const ctr = sigmoid(raw[o + CENTERNESS_CHANNEL]);
    for (let c = 0; c < classes.length; c++) {
      const score = Math.sqrt(sigmoid(raw[o + CLASS_OFFSET + c]) * ctr);
      if (score < options.scoreThr) continue;
      const s = points.stride[a];
      const d = (i: number) => Math.exp(Math.min(raw[o + i], MAX_LOG_DISTANCE)) * s;
      candidates.push({ label: classes[c], score, x_min: points.cx[a] - d(0), y_min: points.cy[a] - d(1), x_max: points.cx[a] + d(2), y_max: points.cy[a] + d(3) });
    }
  }
  candidates.sort((a, b) => b.score! - a.score!);
  return nonMaximumSuppression(candidates.slice(0, options.preNms) as Array<Box & { score: number }>, { method: options.nms, iouThr: options.iouThr, sigma: options.sigma, maxDet: options.maxDet });
}

