import { iou, type Rect } from './iou.ts';

export interface LabelledBox extends Rect {
  label: string;
  score?: number;
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

/**
 * PASCAL VOC 2010 average precision of one class: detections over all images sorted by score; each
 * is a true positive when its best-overlapping same-image truth box has IoU > iouThr and was not
 * matched before (a duplicate is a false positive); AP is the area under the precision envelope
 * (all-point interpolation).
 */
export function classAveragePrecision(images: readonly DetectionImage[], label: string, iouThr: number): ClassAp {
  const truth = images.map((im) => im.truth.filter((b) => b.label === label));
  const matched = truth.map((boxes) => boxes.map(() => false));
  const detections = images.flatMap((im, image) => im.predicted.filter((b) => b.label === label).map((box) => ({ image, box, score: box.score ?? 1 })));
  detections.sort((a, b) => b.score - a.score);
  const positives = truth.reduce((s, boxes) => s + boxes.length, 0);
  if (positives === 0) return { label, ap: NaN, truthBoxes: 0, predictedBoxes: detections.length };
  const recall: number[] = [];
  const precision: number[] = [];
  let tp = 0;
  detections.forEach(({ image, box }, k) => {
    let best = -1;
    let bestIou = -Infinity;
    truth[image].forEach((t, j) => {
      const v = iou(t, box);
      if (v > bestIou) {
        bestIou = v;
        best = j;
      }
    });
    if (best >= 0 && bestIou > iouThr && !matched[image][best]) {
      matched[image][best] = true;
      tp++;
    }
    recall.push(tp / positives);
    precision.push(tp / (k + 1));
  });
  return { label, ap: vocArea(recall, precision), truthBoxes: positives, predictedBoxes: detections.length };
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
  const defined = perClass.filter((c) => !Number.isNaN(c.ap));
  return { map: defined.length ? defined.reduce((s, c) => s + c.ap, 0) / defined.length : NaN, perClass };
}
