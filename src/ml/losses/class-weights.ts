/**
 * Class-balanced weights by the effective number of samples (Cui et al. 2019): w_c = (1 - beta) / (1 - beta^n_c),
 * normalised to sum to the number of classes. Classes with no samples get weight 0 before normalising.
 */
export function effectiveNumberWeights(counts: readonly number[], beta = 0.9999): number[] {
  const raw = counts.map((n) => (n > 0 ? (1 - beta) / (1 - beta ** n) : 0));
  const total = raw.reduce((a, b) => a + b, 0);
  return total > 0 ? raw.map((w) => (w * counts.length) / total) : counts.map(() => 1);
}
