import type { DatasetRow } from '../../data-model.ts';

/**
 * The training part of fold instance `fold` (or of a holdout split when `fold` is undefined) as the
 * train stage must use it: rows with split !== 'test' and fold !== `fold` (holdout: split === 'train'),
 * minus rows excluded for this fold, each listed `repeat` times.
 */
export function trainingRows<R extends DatasetRow>(rows: readonly R[], fold?: number): R[] {
  const out: R[] = [];
  for (const row of rows) {
    if (row.split === 'test') continue;
    if (fold === undefined ? row.split !== 'train' : row.fold === fold) continue;
    const excluded = row.exclude_train_folds as number[] | undefined;
    if (fold !== undefined && excluded?.includes(fold)) continue;
    const times = typeof row.repeat === 'number' ? row.repeat : 1;
    for (let t = 0; t < times; t++) out.push(row);
  }
  return out;
}

/** The validation part of fold instance `fold` (holdout: split === 'val'): each row once, never resampled. */
export function validationRows<R extends DatasetRow>(rows: readonly R[], fold?: number): R[] {
  return rows.filter((r) => r.split !== 'test' && (fold === undefined ? r.split === 'val' : r.fold === fold));
}

/** The held-out test part. */
export function testRows<R extends DatasetRow>(rows: readonly R[]): R[] {
  return rows.filter((r) => r.split === 'test');
}
