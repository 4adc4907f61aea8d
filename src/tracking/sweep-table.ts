import { formatNumber, formatWithCi, textTable } from './compare.ts';
import { Tags, type TrackedRun, type TrackReader } from './model.ts';

/** A variant of a sweep: a pipeline run (not a stage instance) with a parent run. */
export function isVariant(r: TrackedRun): boolean {
  return !!r.parentId && r.tags[Tags.instance] === undefined;
}

/** The variants of a sweep run, in the order the sweep listed them (v1, v2, ...), else by start. */
export async function sweepVariants(reader: TrackReader, sweep: TrackedRun): Promise<TrackedRun[]> {
  const runs = (await reader.listRuns({ experiment: sweep.experiment })).filter((r) => r.parentId === sweep.id && isVariant(r));
  const order = (r: TrackedRun) => Number(/^v(\d+)$/.exec(r.tags[Tags.sweepVariant] ?? '')?.[1] ?? Infinity);
  return runs.sort((a, b) => order(a) - order(b) || a.startTime - b.startTime);
}

export interface SweepTable {
  sweep: { id: string; name: string; swept: string[]; best?: string };
  params: string[];
  metrics: string[];
  rows: Array<{ variant: string; run: string; status: string; params: Array<string | undefined>; metrics: Array<{ value?: number; ci?: [number, number] }> }>;
}

const MAX_METRICS = 4;
const isCi = (k: string) => /_ci_(low|high)$/.test(k);

/**
 * One row per variant: its swept params (the `pipeline.sweep` tag) and metrics. Metrics: those matching
 * `metricFilter`, else up to 4 run-level ones (`<instance>/<metric>`), AUCs first.
 */
export function sweepTable(sweep: TrackedRun, variants: readonly TrackedRun[], opts: { metricFilter?: RegExp } = {}): SweepTable {
  const swept = (sweep.tags[Tags.sweep] ?? '').split(',').filter(Boolean);
  const keys = [...new Set(variants.flatMap((v) => Object.keys(v.metrics)))].filter((k) => !isCi(k));
  const rank = (k: string) => (/auc(_macro)?$/.test(k) ? 0 : /(ap|f1)_(macro|micro)$/.test(k) ? 1 : 2) + (k.split('/').length > 2 ? 10 : 0);
  const metrics = opts.metricFilter ? keys.filter((k) => opts.metricFilter!.test(k)).sort() : keys.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).slice(0, MAX_METRICS);
  return {
    sweep: { id: sweep.id, name: sweep.name, swept, ...(sweep.tags[Tags.sweepBest] ? { best: sweep.tags[Tags.sweepBest] } : {}) },
    params: swept,
    metrics,
    rows: variants.map((v) => ({
      variant: v.tags[Tags.sweepVariant] ?? '',
      run: v.tags[Tags.pipelineRunId] ?? v.id,
      status: v.status,
      params: swept.map((k) => v.params[k]),
      metrics: metrics.map((k) => {
        const lo = v.metrics[`${k}_ci_low`];
        const hi = v.metrics[`${k}_ci_high`];
        return { value: v.metrics[k], ...(lo !== undefined && hi !== undefined ? { ci: [lo, hi] as [number, number] } : {}) };
      }),
    })),
  };
}

export function formatSweepTable(t: SweepTable, format: 'table' | 'md' | 'json'): string {
  if (format === 'json') return JSON.stringify(t, null, 2) + '\n';
  const head = ['variant', ...t.params, 'status', ...t.metrics, 'run'];
  const rows = t.rows.map((r) => [`${r.variant}${t.sweep.best && t.sweep.best === r.run ? ' *' : ''}`, ...r.params.map((p) => p ?? '-'), r.status, ...r.metrics.map((m) => (m.value === undefined ? '-' : m.ci ? formatWithCi(m.value, m.ci) : formatNumber(m.value))), r.run]);
  const title = `sweep ${t.sweep.id}: ${t.rows.length} variants over ${t.params.join(', ') || '(no swept params recorded)'}${t.sweep.best ? ' (* best)' : ''}`;
  if (format === 'md') return [`### ${title}`, '', `| ${head.join(' | ')} |`, `|${' --- |'.repeat(head.length)}`, ...rows.map((r) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`)].join('\n') + '\n';
  return `${title}\n\n${textTable(head, rows)}\n`;
}
