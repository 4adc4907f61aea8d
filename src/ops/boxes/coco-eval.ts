import { iou } from './iou.ts';
import type { DetectionImage } from './map.ts';

/** numpy.linspace(start, stop, num): i·step + start, the last value exactly `stop` (so thresholds compare as in COCOeval). */
export function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : i * step + start));
}

/** COCOeval's defaults: IoU thresholds .50:.05:.95, 101 recall thresholds, maxDets 100. */
export const COCO_IOU_THRESHOLDS = linspace(0.5, 0.95, 10);
export const COCO_RECALL_THRESHOLDS = linspace(0, 1, 101);

/** One category's detections after per-image COCO matching, in COCOeval's accumulate order. */
export interface CocoMatches {
  image: Int32Array;
  score: Float64Array;
  /** [threshold][detection]: matched a truth box / matched an ignored (difficult) one. */
  matched: Uint8Array[];
  ignored: Uint8Array[];
  /** Non-ignored truth boxes per image. */
  positives: Int32Array;
}

/**
 * COCOeval `evaluateImg` for one category over all images (bbox, area range all, crowd-free): per image
 * the `maxDets` highest-scoring detections (stable order), truth boxes with non-ignored ones first;
 * at each IoU threshold t each detection in score order takes the unmatched truth box of highest IoU
 * ≥ t (the last of equal ones, as the reference loop), preferring non-ignored boxes; a detection matched
 * to an ignored box is ignored. Then `accumulate`'s stable sort of all images' detections by score.
 * `difficult` truth boxes play COCO's `ignore` (matched once, ordinary IoU: crowd IoU is not modelled).
 */
export function cocoMatches(images: readonly DetectionImage[], label: string, options: { maxDets?: number; iouThresholds?: readonly number[] } = {}): CocoMatches {
  const { maxDets = 100, iouThresholds = COCO_IOU_THRESHOLDS } = options;
  const T = iouThresholds.length;
  const rows: Array<{ image: number; score: number; matched: Uint8Array; ignored: Uint8Array }> = [];
  const positives = new Int32Array(images.length);
  images.forEach((im, image) => {
    const truth = im.truth.filter((b) => b.label === label);
    const gt = [...truth.filter((b) => !b.difficult), ...truth.filter((b) => b.difficult)];
    const gtIgnore = gt.map((b) => !!b.difficult);
    positives[image] = gtIgnore.filter((g) => !g).length;
    const dt = im.predicted
      .filter((b) => b.label === label)
      .map((box, order) => ({ box, order, score: box.score ?? 1 }))
      .sort((a, b) => b.score - a.score || a.order - b.order)
      .slice(0, maxDets);
    const ious = dt.map((d) => gt.map((g) => iou(d.box, g)));
    const perDet = dt.map((d) => ({ image, score: d.score, matched: new Uint8Array(T), ignored: new Uint8Array(T) }));
    iouThresholds.forEach((t, ti) => {
      const gtMatched = new Uint8Array(gt.length);
      dt.forEach((_, di) => {
        let best = Math.min(t, 1 - 1e-10);
        let m = -1;
        for (let gi = 0; gi < gt.length; gi++) {
          if (gtMatched[gi]) continue;
          if (m > -1 && !gtIgnore[m] && gtIgnore[gi]) break;
          if (ious[di][gi] < best) continue;
          best = ious[di][gi];
          m = gi;
        }
        if (m === -1) return;
        gtMatched[m] = 1;
        perDet[di].matched[ti] = 1;
        perDet[di].ignored[ti] = gtIgnore[m] ? 1 : 0;
      });
    });
    rows.push(...perDet);
  });
  rows.sort((a, b) => b.score - a.score); // stable: image order, then score order within the image
  return {
    image: Int32Array.from(rows, (r) => r.image),
    score: Float64Array.from(rows, (r) => r.score),
    matched: iouThresholds.map((_, ti) => Uint8Array.from(rows, (r) => r.matched[ti])),
    ignored: iouThresholds.map((_, ti) => Uint8Array.from(rows, (r) => r.ignored[ti])),
    positives,
  };
}

/**
 * COCOeval `accumulate` for one category: precision at each recall threshold for each IoU threshold
 * ([T][R]), or undefined when the category has no non-ignored truth box (COCO's −1, left out of means).
 * Precision is made monotone from the end; at recall threshold r it is the precision at the first
 * detection reaching recall ≥ r (0 beyond the highest recall). Optional per-image weights (bootstrap).
 */
export function cocoPrecision(m: CocoMatches, weights?: ArrayLike<number>, recallThresholds: readonly number[] = COCO_RECALL_THRESHOLDS): number[][] | undefined {
  const w = (image: number) => (weights ? weights[image] : 1);
  let positives = 0;
  for (let i = 0; i < m.positives.length; i++) positives += w(i) * m.positives[i];
  if (positives === 0) return undefined;
  return m.matched.map((matched, ti) => {
    const ignored = m.ignored[ti];
    const rc: number[] = [];
    const pr: number[] = [];
    let tp = 0;
    let fp = 0;
    for (let k = 0; k < m.score.length; k++) {
      const weight = w(m.image[k]);
      if (weight === 0) continue;
      // An ignored detection adds neither a TP nor an FP but still a point (as the reference's cumsum).
      if (!ignored[k]) {
        if (matched[k]) tp += weight;
        else fp += weight;
      }
      rc.push(tp / positives);
      pr.push(tp / (tp + fp + Number.EPSILON));
    }
    for (let i = pr.length - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
    const q = new Array<number>(recallThresholds.length).fill(0);
    let i = 0;
    for (let r = 0; r < recallThresholds.length; r++) {
      while (i < rc.length && rc[i] < recallThresholds[r]) i++; // numpy searchsorted(rc, r, side='left')
      if (i >= rc.length) break;
      q[r] = pr[i];
    }
    return q;
  });
}

/** Mean of a [T][R] precision table over the given IoU threshold indices (all by default). */
export function meanPrecision(precision: number[][] | undefined, thresholdIndices?: readonly number[]): number {
  if (!precision) return NaN;
  const rows = thresholdIndices ? thresholdIndices.map((t) => precision[t]) : precision;
  let sum = 0;
  let n = 0;
  for (const row of rows) {
    for (const v of row) sum += v;
    n += row.length;
  }
  return sum / n;
}
