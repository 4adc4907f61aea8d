import { binaryClfCurve, trapezoid } from './binary-curve.ts';
import { UndefinedMetricError } from './errors.ts';

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** Decreasing; the first is `Infinity` (the curve's (0, 0) start; scikit-learn ≥1.3 also uses inf). */
  thresholds: number[];
}

/**
 * ROC curve points like `sklearn.metrics.roc_curve(y, s, drop_intermediate=True)`. fpr (tpr) is NaN
 * when there are no negatives (positives), as in scikit-learn.
 */
export function rocCurve(truth: ArrayLike<number>, scores: ArrayLike<number>, { dropIntermediate = true } = {}): RocCurve {
  let { fps, tps, thresholds } = binaryClfCurve(truth, scores);
  if (dropIntermediate && fps.length > 2) {
    const keep: number[] = [0];
    for (let i = 1; i < fps.length - 1; i++) {
      const corner = fps[i + 1] - 2 * fps[i] + fps[i - 1] !== 0 || tps[i + 1] - 2 * tps[i] + tps[i - 1] !== 0;
      if (corner) keep.push(i);
    }
    keep.push(fps.length - 1);
    fps = keep.map((i) => fps[i]);
    tps = keep.map((i) => tps[i]);
    thresholds = keep.map((i) => thresholds[i]);
  }
  fps = [0, ...fps];
  tps = [0, ...tps];
  const negatives = fps[fps.length - 1];
  const positives = tps[tps.length - 1];
  return {
    fpr: fps.map((v) => (negatives > 0 ? v / negatives : NaN)),
    tpr: tps.map((v) => (positives > 0 ? v / positives : NaN)),
    thresholds: [Infinity, ...thresholds],
  };
}

/** Binary ROC-AUC, `sklearn.metrics.roc_auc_score`. Throws `UndefinedMetricError` when only one class is present. */
export function rocAuc(truth: ArrayLike<number>, scores: ArrayLike<number>): number {
  requireBothClasses(truth, 'ROC-AUC');
  const { fpr, tpr } = rocCurve(truth, scores);
  return trapezoid(fpr, tpr);
}

export function requireBothClasses(truth: ArrayLike<number>, metric: string): void {
  let positives = 0;
  for (let i = 0; i < truth.length; i++) positives += truth[i] === 1 ? 1 : 0;
  if (positives === 0 || positives === truth.length) {
    throw new UndefinedMetricError(`${metric} is not defined when only one class is present (${positives} positives of ${truth.length})`);
  }
}
