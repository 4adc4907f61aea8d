import type { SplitItem } from './groups.ts';
import { stratifiedGroupSplit } from './stratify.ts';

export interface KFoldAssignment {
  split: Array<'train' | 'test'>;
  /** Fold of each non-test item; undefined for test items. */
  fold: Array<number | undefined>;
}

/**
 * Grouped stratified k-fold: first (when `test` > 0) a grouped stratified held-out test part, then k
 * folds over the rest with equal ratios.
 */
export function kfoldAssign(items: readonly SplitItem[], k: number, seed: number, test = 0): KFoldAssignment {
  if (!Number.isInteger(k) || k < 2) throw new Error(`k must be an integer >= 2, got ${k}`);
  const split: Array<'train' | 'test'> = new Array(items.length).fill('train');
  let rest = items.map((_, i) => i);
  if (test > 0) {
    const part = stratifiedGroupSplit(items, [1 - test, test], seed);
    rest = [];
    part.forEach((p, i) => (p === 1 ? (split[i] = 'test') : rest.push(i)));
  }
  const fold: Array<number | undefined> = new Array(items.length).fill(undefined);
  const folds = stratifiedGroupSplit(rest.map((i) => items[i]), new Array(k).fill(1), seed + 1);
  rest.forEach((i, n) => (fold[i] = folds[n]));
  return { split, fold };
}

export type HoldoutSplit = 'train' | 'val' | 'test';

/** Names of the parts as datasets write them (split columns, split folders), to train / val / test. */
export const SPLIT_ALIASES: Record<string, HoldoutSplit> = { train: 'train', training: 'train', val: 'val', valid: 'val', validation: 'val', dev: 'val', test: 'test', testing: 'test', holdout: 'test' };

/** Grouped stratified train / val / test split with the given fractions (zero fractions allowed). */
export function holdoutAssign(items: readonly SplitItem[], fractions: { train: number; val: number; test: number }, seed: number): HoldoutSplit[] {
  const names: HoldoutSplit[] = ['train', 'val', 'test'];
  const part = stratifiedGroupSplit(items, names.map((n) => fractions[n]), seed);
  return part.map((p) => names[p]);
}
