/** Weighted mean of several score vectors (one per model); weights default to 1. */
export function weightedMean(vectors: readonly (readonly number[])[], weights?: readonly number[]): number[] {
  if (vectors.length === 0) throw new Error('weighted mean of no vectors');
  const w = weights ?? vectors.map(() => 1);
  const total = w.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new Error(`weights must sum to more than 0, got ${total}`);
  return vectors[0].map((_, c) => vectors.reduce((s, v, k) => s + v[c] * w[k], 0) / total);
}

/**
 * Ranks scaled to (0, 1]: rank / n with ties sharing their average rank (scipy.stats.rankdata
 * 'average' divided by n). Rank averaging combines models whose scores are on different scales.
 */
export function normalizedRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1][0] === order[start][0]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k][1]] = rank / values.length;
    start = end + 1;
  }
  return ranks;
}

/** Replaces each column of an n×C score matrix by its normalized ranks. */
export function rankColumns(scores: readonly (readonly number[])[]): number[][] {
  if (scores.length === 0) return [];
  const columns = scores[0].map((_, c) => normalizedRanks(scores.map((row) => row[c])));
  return scores.map((_, i) => columns.map((col) => col[i]));
}
