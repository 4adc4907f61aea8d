import type { Box } from '../../data-model.ts';
import { iou } from '../../ops/boxes/iou.ts';
import type { AnchorPoints } from './assign.ts';
import { CENTERNESS_CHANNEL, CLASS_OFFSET } from './detector.ts';

export interface DecodeOptions {
  /** Boxes scoring below this are dropped before NMS (default .05). */
  scoreThr: number;
  /** Class-wise NMS IoU threshold (default .6). */
  iouThr: number;
  /** `nms` (hard) or `soft-nms` (Gaussian, Bodla et al. 2017). */
  nms: 'nms' | 'soft-nms';
  /** Gaussian sigma of soft-NMS (default .5). */
  sigma: number;
  /** Most candidates per image entering NMS, by score (default 1000). */
  preNms: number;
  /** Most boxes kept per image (default 100). */
  maxDet: number;
}

export const defaultDecode: DecodeOptions = { scoreThr: 0.05, iouThr: 0.6, nms: 'nms', sigma: 0.5, preNms: 1000, maxDet: 100 };

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/** Distances larger than e^12 strides are clamped (an untrained model's outliers). */
const MAX_LOG_DISTANCE = 12;

/**
 * One image's raw `detections` [A, 5 + C] to scored boxes in the model's input pixels: score of class k at a
 * point = sqrt(sigmoid(class logit) * sigmoid(centerness logit)) (FCOS), box = point -+ exp(raw) * stride;
 * candidates above `scoreThr` (at most `preNms`), class-wise NMS, the best `maxDet`.
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
  return classwiseNms(candidates.slice(0, options.preNms), options).slice(0, options.maxDet);
}

/** NMS per label; output sorted by score. */
export function classwiseNms(boxes: readonly Box[], options: Pick<DecodeOptions, 'iouThr' | 'nms' | 'sigma' | 'scoreThr'>): Box[] {
  const byLabel = new Map<string, Box[]>();
  for (const b of boxes) (byLabel.get(b.label) ?? byLabel.set(b.label, []).get(b.label)!).push(b);
  const kept: Box[] = [];
  for (const group of byLabel.values()) kept.push(...(options.nms === 'soft-nms' ? softNms(group, options.sigma, options.scoreThr) : hardNms(group, options.iouThr)));
  return kept.sort((a, b) => b.score! - a.score!);
}

function hardNms(boxes: Box[], iouThr: number): Box[] {
  const sorted = [...boxes].sort((a, b) => b.score! - a.score!);
  const kept: Box[] = [];
  for (const b of sorted) if (kept.every((k) => iou(k, b) <= iouThr)) kept.push(b);
  return kept;
}

function softNms(boxes: Box[], sigma: number, scoreThr: number): Box[] {
  const pool = boxes.map((b) => ({ ...b }));
  const kept: Box[] = [];
  while (pool.length > 0) {
    let best = 0;
    for (let i = 1; i < pool.length; i++) if (pool[i].score! > pool[best].score!) best = i;
    const [top] = pool.splice(best, 1);
    kept.push(top);
    for (const b of pool) b.score = b.score! * Math.exp(-(iou(top, b) ** 2) / sigma);
    for (let i = pool.length - 1; i >= 0; i--) if (pool[i].score! < scoreThr) pool.splice(i, 1);
  }
  return kept;
}
