import type { DatasetRow } from '../../data-model.ts';
import { seededRandom, shuffled } from '../../util/random.ts';

/** Distinct folds of the non-test rows, ascending. */
export function foldsOf(rows: readonly DatasetRow[]): number[] {
  return [...new Set(rows.filter((r) => r.split !== 'test' && typeof r.fold === 'number').map((r) => r.fold as number))].sort((a, b) => a - b);
}

/** Whether a row belongs to the resampled classes: any of its labels (or, `exclusive`, all of them and at least one). */
export function matchesClasses(row: DatasetRow, classes: ReadonlySet<string>, exclusive: boolean): boolean {
  const labels = row.labels ?? [];
  return exclusive ? labels.length > 0 && labels.every((l) => classes.has(l)) : labels.some((l) => classes.has(l));
}

export type KeepRule = { keep: number } | { count: number } | { ratio: number };

/** How many of `candidates` rows to keep next to `others` rows of the same training part. */
export function keptCount(rule: KeepRule, candidates: number, others: number): number {
  const n = 'keep' in rule ? Math.round(rule.keep * candidates) : 'count' in rule ? rule.count : Math.round(rule.ratio * others);
  return Math.max(0, Math.min(candidates, n));
}

/**
 * Undersampling plan per fold: for each fold f, the indices of rows to drop from the training part of
 * f (rows with split !== 'test' and fold !== f that match), chosen at random with a per-fold seed.
 * Returns fold -> dropped row indices, with the candidate and kept counts.
 */
export function undersamplePlan(rows: readonly DatasetRow[], folds: readonly number[], isCandidate: (row: DatasetRow) => boolean, rule: KeepRule, seed: number) {
  return folds.map((fold) => {
    const training = rows.map((r, i) => [r, i] as const).filter(([r]) => r.split !== 'test' && r.fold !== fold);
    const candidates = training.filter(([r]) => isCandidate(r)).map(([, i]) => i);
    const kept = keptCount(rule, candidates.length, training.length - candidates.length);
    const dropped = shuffled(candidates, seededRandom(seed * 1000 + fold)).slice(kept);
    return { fold, candidates: candidates.length, kept, dropped: dropped.sort((a, b) => a - b) };
  });
}

/** Class weights normalised to sum to the number of classes; classes without images weigh 0. */
export function classWeights(counts: Record<string, number>, method: 'inverse' | 'effective', beta: number): Record<string, number> {
  const classes = Object.keys(counts);
  const raw = classes.map((c) => {
    const n = counts[c];
    if (n <= 0) return 0;
    return method === 'inverse' ? 1 / n : (1 - beta) / (1 - Math.pow(beta, n));
  });
  const sum = raw.reduce((a, b) => a + b, 0);
  return Object.fromEntries(classes.map((c, i) => [c, sum > 0 ? (raw[i] * classes.length) / sum : 0]));
}
