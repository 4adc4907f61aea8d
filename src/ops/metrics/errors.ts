/** A metric that is mathematically undefined for the given truth (e.g. ROC-AUC with one class present). */
export class UndefinedMetricError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UndefinedMetricError';
  }
}

/** Throws unless truth and scores are arrays of the same length with finite scores. */
export function checkBinaryInputs(truth: ArrayLike<number>, scores: ArrayLike<number>, what: string): void {
  if (truth.length !== scores.length) throw new Error(`${what}: ${truth.length} truth values but ${scores.length} scores`);
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) throw new Error(`${what}: score #${i} is ${scores[i]} (scores must be finite numbers)`);
    if (truth[i] !== 0 && truth[i] !== 1) throw new Error(`${what}: truth #${i} is ${truth[i]} (expected 0 or 1)`);
  }
}
