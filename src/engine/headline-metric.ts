import type { Store } from '../store/store.ts';
import { loadArtifact } from './artifact.ts';
import type { RunResult } from './runner-api.ts';

/** The final metrics (`meta.metrics`) of each report a run produced, in the run's instance order. */
export async function reportMetrics(store: Store, result: Pick<RunResult, 'instances'>): Promise<Array<{ instance: string; metrics: Record<string, number> }>> {
  const out: Array<{ instance: string; metrics: Record<string, number> }> = [];
  for (const instance of result.instances) {
    if (!instance.artifact) continue;
    const artifact = await loadArtifact(store, instance.artifact);
    const metrics = artifact?.kind === 'report' ? (artifact.meta.metrics as Record<string, number> | undefined) : undefined;
    if (metrics && typeof metrics === 'object') out.push({ instance: instance.id, metrics });
  }
  return out;
}

/** An aggregate metric (not per class, not a CI bound) with a finite value. */
export function isAggregate(metrics: Record<string, number>, key: string): boolean {
  return !key.includes('/') && !/_ci_(low|high)$/.test(key) && Number.isFinite(metrics[key]);
}

export interface Headline {
  instance: string;
  name: string;
  value: number;
  ci?: [number, number];
  /** Whether higher (max) or lower (min) is better. */
  mode: 'max' | 'min';
}

/**
 * The one number that ranks a run (a sweep's variants): `preferred.metric` when given (`auc_macro`, or
 * `evaluate/auc_macro` for one instance), else `auc_macro`, else the first aggregate metric of the last
 * report. Lower is better for losses and errors unless `preferred.mode` says otherwise.
 */
export async function headlineMetric(store: Store, result: Pick<RunResult, 'instances'>, preferred: { metric?: string; mode?: 'max' | 'min' } = {}): Promise<Headline | undefined> {
  const reports = await reportMetrics(store, result);
  const wanted = preferred.metric ?? 'auc_macro';
  const find = (name: string) => {
    for (const r of reports) {
      if (isAggregate(r.metrics, name)) return { instance: r.instance, name };
      if (name.startsWith(`${r.instance}/`) && isAggregate(r.metrics, name.slice(r.instance.length + 1))) return { instance: r.instance, name: name.slice(r.instance.length + 1) };
    }
  };
  const last = reports.at(-1);
  const firstAggregate = last && Object.keys(last.metrics).find((k) => isAggregate(last.metrics, k));
  const hit = find(wanted) ?? (preferred.metric ? undefined : firstAggregate ? { instance: last!.instance, name: firstAggregate } : undefined);
  if (!hit) return undefined;
  const metrics = reports.find((r) => r.instance === hit.instance)!.metrics;
  const low = metrics[`${hit.name}_ci_low`];
  const high = metrics[`${hit.name}_ci_high`];
  return {
    ...hit,
    value: metrics[hit.name],
    ...(Number.isFinite(low) && Number.isFinite(high) ? { ci: [low, high] as [number, number] } : {}),
    mode: preferred.mode ?? (/(loss|error|mse|mae|rmse)/i.test(hit.name) ? 'min' : 'max'),
  };
}
