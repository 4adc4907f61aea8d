import { checkBinaryInputs } from './errors.ts';

export interface CalibrationBins {
  /** Per non-empty bin (scikit-learn drops empty bins): fraction of positives and mean predicted probability. */
  probTrue: number[];
  probPred: number[];
  counts: number[];
  /** Bin edges, `numpy.linspace(0, 1, nBins + 1)`. */
  edges: number[];
}

/**
 * Reliability curve with uniform bins: `sklearn.calibration.calibration_curve(y, p, n_bins, strategy='uniform')`.
 * A probability equal to an inner edge falls in the lower bin (numpy.searchsorted, side left).
 */
export function calibrationCurve(truth: ArrayLike<number>, probs: ArrayLike<number>, nBins = 10): CalibrationBins {
  checkBinaryInputs(truth, probs, 'calibration');
  if (!Number.isInteger(nBins) || nBins < 1) throw new Error(`calibration: bins must be a positive integer, got ${nBins}`);
  const step = 1 / nBins;
  const edges = Array.from({ length: nBins + 1 }, (_, i) => (i === nBins ? 1 : i * step));
  const sums = new Array<number>(nBins).fill(0);
  const positives = new Array<number>(nBins).fill(0);
  const totals = new Array<number>(nBins).fill(0);
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    if (p < 0 || p > 1) throw new Error(`calibration: probability #${i} is ${p}, outside [0, 1]`);
    let bin = 0;
    while (bin < nBins - 1 && edges[bin + 1] < p) bin++;
    sums[bin] += p;
    positives[bin] += truth[i];
    totals[bin]++;
  }
  const kept = totals.flatMap((n, b) => (n > 0 ? [b] : []));
  return {
    probTrue: kept.map((b) => positives[b] / totals[b]),
    probPred: kept.map((b) => sums[b] / totals[b]),
    counts: kept.map((b) => totals[b]),
    edges,
  };
}

/** Expected calibration error over the same bins: Σ_b (n_b / N) |frac_pos_b − mean_prob_b|. */
export function expectedCalibrationError(truth: ArrayLike<number>, probs: ArrayLike<number>, nBins = 10): number {
  const { probTrue, probPred, counts } = calibrationCurve(truth, probs, nBins);
  const n = counts.reduce((a, b) => a + b, 0);
  return counts.reduce((s, count, b) => s + (count / n) * Math.abs(probTrue[b] - probPred[b]), 0);
}

/** `sklearn.metrics.brier_score_loss`: mean squared difference of probability and outcome. */
export function brierScore(truth: ArrayLike<number>, probs: ArrayLike<number>): number {
  checkBinaryInputs(truth, probs, 'brier score');
  let s = 0;
  for (let i = 0; i < probs.length; i++) s += (probs[i] - truth[i]) ** 2;
  return s / probs.length;
}
