import type { DatasetRow } from '../../data-model.ts';
import { shuffled } from '../../util/random.ts';
import { targetOf } from './targets.ts';

/**
 * One epoch's order of training rows: a shuffle, or with `balanced` a draw with replacement where a row's
 * weight is 1 / (count of its rarest class) (rows without any class count as their own group), so each
 * class is seen about equally often.
 */
export function epochOrder<R extends DatasetRow>(rows: readonly R[], classes: readonly string[], balanced: boolean, random: () => number): R[] {
  if (!balanced) return shuffled(rows, random);
  const targets = rows.map((r) => targetOf(r, classes));
  const counts = classes.map((_, k) => targets.reduce((n, t) => n + t[k], 0));
  const empty = targets.filter((t) => !t.some((v) => v > 0)).length;
  const weights = targets.map((t) => {
    let rarest = Infinity;
    t.forEach((v, k) => v > 0 && (rarest = Math.min(rarest, counts[k])));
    return 1 / (rarest === Infinity ? empty : rarest);
  });
  const cumulative: number[] = [];
  let total = 0;
  for (const w of weights) cumulative.push((total += w));
  const out: R[] = [];
  for (let i = 0; i < rows.length; i++) {
    const u = random() * total;
    let lo = 0, hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    out.push(rows[lo]);
  }
  return out;
}

/** An epoch's order cut into batches; a single-image last batch (it breaks batch-norm statistics) joins the one before. */
export function epochBatches<R>(order: readonly R[], batch: number): R[][] {
  const batches: R[][] = [];
  for (let i = 0; i < order.length; i += batch) batches.push(order.slice(i, i + batch));
  if (batches.length > 1 && batches[batches.length - 1].length === 1) batches[batches.length - 2].push(...batches.pop()!);
  return batches;
}
