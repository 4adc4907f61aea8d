import { checkBinaryInputs } from './errors.ts';

export interface BinaryCurve {
  /** False / true positives counted at each distinct threshold, thresholds decreasing. */
  fps: number[];
  tps: number[];
  thresholds: number[];
}

/** Indices of `scores` sorted by decreasing score (ties keep a fixed order; results never depend on it). */
export function argsortDescending(scores: ArrayLike<number>): number[] {
  const order = Array.from({ length: scores.length }, (_, i) => i);
  return order.sort((a, b) => scores[b] - scores[a] || a - b);
}

/**
 * Cumulative FP/TP counts at every distinct score, highest first: scikit-learn's `_binary_clf_curve`.
 * Tied scores form one point, which is what makes ROC/PR handle ties like scikit-learn. Positives'
 * and negatives' scores are sorted apart with the native numeric sort and merged (no comparator
 * callbacks: several times faster on large inputs).
 */
export function binaryClfCurve(truth: ArrayLike<number>, scores: ArrayLike<number>): BinaryCurve {
  checkBinaryInputs(truth, scores, 'binary curve');
  let positives = 0;
  for (let i = 0; i < truth.length; i++) positives += truth[i];
  const pos = new Float64Array(positives);
  const neg = new Float64Array(truth.length - positives);
  for (let i = 0, p = 0, n = 0; i < truth.length; i++) {
    if (truth[i] === 1) pos[p++] = scores[i];
    else neg[n++] = scores[i];
  }
  pos.sort();
  neg.sort();
  const fps: number[] = [];
  const tps: number[] = [];
  const thresholds: number[] = [];
  let p = pos.length - 1;
  let n = neg.length - 1;
  while (p >= 0 || n >= 0) {
    const v = p < 0 ? neg[n] : n < 0 ? pos[p] : Math.max(pos[p], neg[n]);
    while (p >= 0 && pos[p] === v) p--;
    while (n >= 0 && neg[n] === v) n--;
    tps.push(pos.length - 1 - p);
    fps.push(neg.length - 1 - n);
    thresholds.push(v);
  }
  return { fps, tps, thresholds };
}

/** Trapezoidal area under y(x), like `sklearn.metrics.auc` for monotonic x. */
export function trapezoid(x: readonly number[], y: readonly number[]): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return area;
}
