export type BinaryMetric = (truth: ArrayLike<number>, scores: ArrayLike<number>) => number;
export type Average = 'macro' | 'micro' | 'weighted';

/** Column `c` of a row-major n×C matrix. */
export function column(matrix: readonly (readonly number[])[], c: number): number[] {
  return matrix.map((row) => row[c]);
}

/** A binary metric per class of an indicator matrix `truth` (n×C) and scores (n×C). */
export function perClass(metric: BinaryMetric, truth: readonly (readonly number[])[], scores: readonly (readonly number[])[]): number[] {
  const classes = truth[0]?.length ?? 0;
  return Array.from({ length: classes }, (_, c) => metric(column(truth, c), column(scores, c)));
}

/**
 * scikit-learn's `_average_binary_score` for multi-label indicator truth (and one-vs-rest multi-class
 * after one-hot encoding): `macro` = mean of per-class values, `weighted` = support-weighted mean,
 * `micro` = the metric on all cells flattened. Undefined per-class values throw, as in scikit-learn.
 */
export function averageBinaryMetric(metric: BinaryMetric, truth: readonly (readonly number[])[], scores: readonly (readonly number[])[], average: Average): number {
  if (average === 'micro') return metric(truth.flat(), scores.flat());
  const values = perClass(metric, truth, scores);
  if (average === 'macro') return mean(values);
  const support = values.map((_, c) => truth.reduce((s, row) => s + row[c], 0));
  const total = support.reduce((a, b) => a + b, 0);
  return values.reduce((s, v, c) => s + (v * support[c]) / total, 0);
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** One-hot rows for class indices (label_binarize). */
export function oneHot(indices: readonly number[], classes: number): number[][] {
  return indices.map((k) => Array.from({ length: classes }, (_, c) => (c === k ? 1 : 0)));
}

/** Index of the largest value (first on ties, like numpy.argmax). */
export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
