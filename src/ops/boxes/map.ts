import { iou, type Rect } from './iou.ts';

export interface LabelledBox extends Rect {
  label: string;
  score?: number;
  /** Truth only: VOC `difficult` / COCO crowd: matching detections are ignored (neither TP nor FP). */
  difficult?: boolean;
}

export interface DetectionImage {
  truth: readonly LabelledBox[];
  predicted: readonly LabelledBox[];
}

export interface ClassAp {
  label: string;
  /** NaN when the class has no ground-truth box (left out of the mean, as in PASCAL VOC). */
  ap: number;
  truthBoxes: number;
  predictedBoxes: number;
}

/** The VinBigData convention: an image without findings is one `No finding` box [0, 0, 1, 1]. */
export const NO_FINDING_BOX: Rect = { x_min: 0, y_min: 0, x_max: 1, y_max: 1 };

export function withNoFindingBox(boxes: readonly LabelledBox[], label: string, score?: number): LabelledBox[] {
  return boxes.length > 0 ? [...boxes] : [{ label, ...NO_FINDING_BOX, ...(score === undefined ? {} : { score }) }];
}

/** One class's detections over all images, matched the VOC way, in decreasing score order. */
export interface VocMatches {
  /** Per detection: its image, score and outcome: 1 true positive, 0 false positive, -1 ignored (hit a difficult box). */
  image: Int32Array;
  score: Float64Array;
  outcome: Int8Array;
  /** Non-difficult truth boxes per image. */
  positives: Int32Array;
}

/**
 * PASCAL VOC matching of one class (the devkit's `voc_eval`): detections over all images sorted by
 * score (stable: image order, then input order, breaks ties); each is a true positive when its
 * best-overlapping same-image truth box has IoU > iouThr and was not matched before (a duplicate is a
 * false positive); a best match on a `difficult` box is ignored. Matching is per image, so the outcome
 * of a detection depends only on its own image's detections with higher scores.
 */
export function vocMatches(images: readonly DetectionImage[], label: string, iouThr: number): VocMatches {
  const truth = images.map((im) => im.truth.filter((b) => b.label === label));
  const matched = truth.map((boxes) => boxes.map(() => false));
  const detections = images.flatMap((im, image) => im.predicted.filter((b) => b.label === label).map((box) => ({ image, box, score: box.score ?? 1 })));
  detections.sort((a, b) => b.score - a.score);
  const out: VocMatches = {
    image: new Int32Array(detections.length),
    score: new Float64Array(detections.length),
    outcome: new Int8Array(detections.length),
    positives: Int32Array.from(truth, (boxes) => boxes.filter((b) => !b.difficult).length),
  };
  detections.forEach(({ image, box, score }, k) => {
    let best = -1;
    let bestIou = -Infinity;
    truth[image].forEach((t, j) => {
      const v = iou(t, box);
      if (v > bestIou) {
        bestIou = v;
        best = j;
      }
    });
    out.image[k] = image;
    out.score[k] = score;
    if (best < 0 || !(bestIou > iouThr)) out.outcome[k] = 0;
    else if (truth[image][best].difficult) out.outcome[k] = -1;
    else if (matched[image][best]) out.outcome[k] = 0;
    else {
      matched[image][best] = true;
      out.outcome[k] = 1;
    }
  });
  return out;
}

/**
 * All-point AP (VOC 2010+) of matched detections, with optional per-image weights (bootstrap
 * multiplicities: an image drawn twice counts twice). Returns NaN when there are no positives.
 */
export function vocAp(m: VocMatches, weights?: ArrayLike<number>): { ap: number; recall: number[]; precision: number[] } {
  const w = (image: number) => (weights ? weights[image] : 1);
  let positives = 0;
  for (let i = 0; i < m.positives.length; i++) positives += w(i) * m.positives[i];
  const recall: number[] = [];
  const precision: number[] = [];
  if (positives === 0) return { ap: NaN, recall, precision };
  let tp = 0;
  let seen = 0;
  for (let k = 0; k < m.score.length; k++) {
    const weight = w(m.image[k]);
    if (weight === 0 || m.outcome[k] < 0) continue;
    seen += weight;
    if (m.outcome[k] === 1) tp += weight;
    recall.push(tp / positives);
    precision.push(tp / seen);
  }
  return { ap: vocArea(recall, precision), recall, precision };
}

/**
 * PASCAL VOC 2010 average precision of one class: detections over all images sorted by score; each
 * is a true positive when its best-overlapping same-image truth box has IoU > iouThr and was not
 * matched before (a duplicate is a false positive); AP is the area under the precision envelope
 * (all-point interpolation).
 */
export function classAveragePrecision(images: readonly DetectionImage[], label: string, iouThr: number): ClassAp {
  const m = vocMatches(images, label, iouThr);
  const truthBoxes = m.positives.reduce((a, b) => a + b, 0);
  return { label, ap: vocAp(m).ap, truthBoxes, predictedBoxes: m.score.length };
}

/** Area under the monotone precision envelope (VOC 2010+). */
export function vocArea(recall: readonly number[], precision: readonly number[]): number {
  const mrec = [0, ...recall, 1];
  const mpre = [0, ...precision, 0];
  for (let i = mpre.length - 2; i >= 0; i--) mpre[i] = Math.max(mpre[i], mpre[i + 1]);
  let ap = 0;
  for (let i = 0; i < mrec.length - 1; i++) if (mrec[i + 1] !== mrec[i]) ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1];
  return ap;
}

/** Mean AP over classes that have ground truth, at IoU > iouThr (VinBigData: 0.4). */
export function meanAveragePrecision(images: readonly DetectionImage[], labels: readonly string[], iouThr = 0.4): { map: number; perClass: ClassAp[] } {
  const perClass = labels.map((label) => classAveragePrecision(images, label, iouThr));
  return { map: meanDefined(perClass.map((c) => c.ap)), perClass };
}

/** Mean of the non-NaN values; NaN when there are none. */
export function meanDefined(values: readonly number[]): number {
  const defined = values.filter((v) => !Number.isNaN(v));
  return defined.length ? defined.reduce((s, v) => s + v, 0) / defined.length : NaN;
}
