import { rocCurve, requireBothClasses } from './roc.ts';

/** `numpy.percentile(values, q)` with the default linear interpolation; q in [0, 100]. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error('percentile of an empty list');
  if (!(q >= 0 && q <= 100)) throw new Error(`percentile must be within [0, 100], got ${q}`);
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const t = pos - lo;
  // numpy's _lerp: exact at both ends.
  return t >= 0.5 ? sorted[hi] - (sorted[hi] - sorted[lo]) * (1 - t) : sorted[lo] + (sorted[hi] - sorted[lo]) * t;
}

/**
 * Youden's J threshold: the ROC point maximising sensitivity + specificity − 1 (first on ties, in
 * decreasing-threshold order; the curve's artificial (0, 0) start is not a candidate). A score at or
 * above the threshold is positive.
 */
export function youdenThreshold(truth: ArrayLike<number>, scores: ArrayLike<number>): { threshold: number; j: number } {
  requireBothClasses(truth, "Youden's J");
  const { fpr, tpr, thresholds } = rocCurve(truth, scores);
  let best = 1;
  for (let i = 2; i < thresholds.length; i++) if (tpr[i] - fpr[i] > tpr[best] - fpr[best]) best = i;
  return { threshold: thresholds[best], j: tpr[best] - fpr[best] };
}
