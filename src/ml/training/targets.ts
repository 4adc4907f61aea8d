import type { DatasetRow } from '../../data-model.ts';
import type { Task } from '../models/index.ts';

/** The model's output classes: the dataset's `meta.classes`, else the sorted union of row labels. */
export function classesOf(rows: readonly DatasetRow[], meta: Record<string, unknown>): string[] {
  if (Array.isArray(meta.classes) && meta.classes.length > 0) return meta.classes.map(String);
  const seen = new Set<string>();
  for (const row of rows) for (const label of row.labels ?? []) seen.add(label);
  return [...seen].sort();
}

/**
 * `auto`: one class -> binary; a dataset declared multi-label (`meta.task`, e.g. from an .npz with N x K
 * labels) -> multi-label; every row exactly one label -> multi-class; else multi-label.
 */
export function inferTask(rows: readonly DatasetRow[], classes: readonly string[], declared?: unknown): Task {
  if (classes.length === 1) return 'binary';
  if (declared === 'multilabel') return 'multilabel';
  return rows.every((r) => (r.labels ?? []).filter((l) => classes.includes(l)).length === 1) ? 'multiclass' : 'multilabel';
}

/** Multi-hot target over `classes` (labels outside the class list are ignored). */
export function targetOf(row: DatasetRow, classes: readonly string[]): Float32Array {
  const y = new Float32Array(classes.length);
  for (const label of row.labels ?? []) {
    const k = classes.indexOf(label);
    if (k >= 0) y[k] = 1;
  }
  return y;
}

/** Per-class positive counts over rows. */
export function classCounts(rows: readonly DatasetRow[], classes: readonly string[]): number[] {
  const counts = classes.map(() => 0);
  for (const row of rows) targetOf(row, classes).forEach((v, k) => (counts[k] += v));
  return counts;
}
