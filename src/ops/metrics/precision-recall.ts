import { binaryClfCurve, trapezoid } from './binary-curve.ts';

export interface PrCurve {
  /** Recall decreasing to 0; precision ends with 1 (scikit-learn's convention). */
  precision: number[];
  recall: number[];
  /** Increasing; one fewer than precision/recall. */
  thresholds: number[];
}

/** `sklearn.metrics.precision_recall_curve` (1.2 semantics: every distinct threshold; recall = 1 when there are no positives). */
export function precisionRecallCurve(truth: ArrayLike<number>, scores: ArrayLike<number>): PrCurve {
  const { fps, tps, thresholds } = binaryClfCurve(truth, scores);
  const positives = tps[tps.length - 1] ?? 0;
  const precision = tps.map((tp, i) => (tp + fps[i] !== 0 ? tp / (tp + fps[i]) : 0));
  const recall = tps.map((tp) => (positives === 0 ? 1 : tp / positives));
  return {
    precision: [...precision.reverse(), 1],
    recall: [...recall.reverse(), 0],
    thresholds: [...thresholds].reverse(),
  };
}

/** `sklearn.metrics.average_precision_score`: Σ (R_n − R_{n−1}) P_n, no interpolation. 0 when there are no positives. */
export function averagePrecision(truth: ArrayLike<number>, scores: ArrayLike<number>): number {
  const { precision, recall } = precisionRecallCurve(truth, scores);
  let ap = 0;
  for (let i = 0; i < recall.length - 1; i++) ap -= (recall[i + 1] - recall[i]) * precision[i];
  return ap + 0; // avoid -0
}

/** Trapezoidal area under the PR curve: `sklearn.metrics.auc(recall, precision)`. */
export function prAuc(truth: ArrayLike<number>, scores: ArrayLike<number>): number {
  const { precision, recall } = precisionRecallCurve(truth, scores);
  // recall decreases, so the signed trapezoid area is negative: sklearn's auc flips it.
  return -trapezoid(recall, precision);
}
