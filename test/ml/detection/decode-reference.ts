import type { Box } from '../../../src/data-model.ts';
import { nonMaximumSuppression } from '../../../src/ops/boxes/nms.ts';
import type { AnchorPoints } from '../../../src/ml/detection/assign.ts';
import { defaultDecode, type DecodeOptions } from '../../../src/ml/detection/decode.ts';
import { CENTERNESS_CHANNEL, CLASS_OFFSET } from '../../../src/ml/detection/detector.ts';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The straightforward decode (one Box object per candidate, the generic NMS) that decodeDetections must equal. */
export function referenceDecode(raw: Float32Array, points: AnchorPoints, classes: readonly string[], options: DecodeOptions = defaultDecode): Box[] {
  const k = CLASS_OFFSET + classes.length;
  const candidates: Box[] = [];
  for (let a = 0; a < points.count; a++) {
    const o = a * k;
    const ctr = sigmoid(raw[o + CENTERNESS_CHANNEL]);
    for (let c = 0; c < classes.length; c++) {
      const score = Math.sqrt(sigmoid(raw[o + CLASS_OFFSET + c]) * ctr);
      if (score < options.scoreThr) continue;
      const s = points.stride[a];
      const d = (i: number) => Math.exp(Math.min(raw[o + i], 12)) * s;
      candidates.push({ label: classes[c], score, x_min: points.cx[a] - d(0), y_min: points.cy[a] - d(1), x_max: points.cx[a] + d(2), y_max: points.cy[a] + d(3) });
    }
  }
  candidates.sort((a, b) => b.score! - a.score!);
  return nonMaximumSuppression(candidates.slice(0, options.preNms) as Array<Box & { score: number }>, { method: options.nms, iouThr: options.iouThr, sigma: options.sigma, maxDet: options.maxDet });
}
