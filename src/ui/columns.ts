import type { TrackedRun } from '../tracking/model.ts';

/** The runs page's column choice: per experiment, so that one experiment's metrics do not crowd out another's. */

export const MAX_METRIC_COLUMNS = 6;
export const MAX_PARAM_COLUMNS = 8;

/** Headline metrics first: evaluation aggregates (AUC first, mAP with the other aggregates), then other metrics, then per-class ones. */
function columnRank(key: string): number {
  const perClass = key.split('/').length > 2;
  const evaluation = key.startsWith('evaluate/');
  // Detection's headline is mAP (map_40, map_50), not COCO's averages or FROC points.
  const auc = /\/auc(_macro)?$/.test(key) ? 0 : /\/(auc|ap|f1)_(macro|micro)$/.test(key) || /\/map(_\d+)?$/.test(key) ? 1 : 2;
  return (perClass ? 20 : 0) + (evaluation ? 0 : 10) + auc;
}

const isCi = (k: string) => /_ci_(low|high)$/.test(k);

/** The metric keys of `runs` (CI bounds left out), headline metrics first, then the most common. */
export function rankedMetrics(runs: readonly TrackedRun[]): string[] {
  const counts = new Map<string, number>();
  for (const r of runs) for (const k of Object.keys(r.metrics)) if (!isCi(k)) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts.keys()].sort((a, b) => columnRank(a) - columnRank(b) || counts.get(b)! - counts.get(a)! || a.localeCompare(b));
}

/** Params that take more than one value among `runs` (missing counts as a value), experiment params first. */
export function differingParams(runs: readonly TrackedRun[]): string[] {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))];
  const differ = keys.filter((k) => new Set(runs.map((r) => r.params[k] ?? '\u0000')).size > 1);
  const rank = (k: string) => (k.startsWith('params.') ? 0 : 1);
  return differ.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The listed runs by experiment, in order of first appearance. */
export function byExperiment(runs: readonly TrackedRun[]): Map<string, TrackedRun[]> {
  const groups = new Map<string, TrackedRun[]>();
  for (const r of runs) {
    const group = groups.get(r.experiment);
    if (group) group.push(r);
    else groups.set(r.experiment, [r]);
  }
  return groups;
}

/** Up to `max` keys taken in turn from each list (each experiment's best first), without repeats. */
export function takeInTurn(lists: readonly string[][], max: number): string[] {
  const out = new Set<string>();
  for (let i = 0; out.size < max && lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length && out.size < max) out.add(l[i]);
  return [...out];
}
