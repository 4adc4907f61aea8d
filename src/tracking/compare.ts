import { formatEstimate } from '../ops/report/escape.ts';
import { Tags, type TrackedRun, type TrackReader } from './model.ts';

export interface ComparedRun {
  id: string;
  name: string;
  experiment: string;
  status: string;
  startTime: number;
  durationMs?: number;
}

export interface ParamRow {
  key: string;
  values: Array<string | undefined>;
}

export interface MetricRow {
  key: string;
  values: Array<number | undefined>;
  /** value - the baseline run's value (the first run unless `baseline` is given). */
  deltas: Array<number | undefined>;
  /**
   * Approximate 95% interval of each delta when both runs have CIs: delta ± sqrt(hw_run² + hw_base²)
   * (hw = half the CI width), i.e. treating the two estimates as independent. Runs evaluated on the
   * same test set are positively correlated, so this is conservative (wider than a paired bootstrap).
   */
  deltaCi?: Array<[number, number] | undefined>;
  /** 95% CI per run when `<key>_ci_low` / `<key>_ci_high` were logged. */
  ci?: Array<[number, number] | undefined>;
}

export interface Comparison {
  runs: ComparedRun[];
  /** Params whose values differ (all params with `allParams`). */
  params: ParamRow[];
  sameParams: number;
  metrics: MetricRow[];
  /** Index of the run the deltas are taken against. */
  baseline: number;
}

/** Finds a run by exact id, by the pipeline run id tag, by a unique prefix/suffix of a run name or pipeline run id, else by a unique id prefix. */
export async function resolveRun(reader: TrackReader, ref: string): Promise<TrackedRun> {
  const exact = await reader.getRun(ref);
  if (exact) return exact;
  // A pipeline run (also a sweep's variant, nested under the sweep run), not one of its stage runs.
  const tagged = (await reader.listRuns({ tag: { key: Tags.pipelineRunId, value: ref } })).filter((r) => r.tags[Tags.instance] === undefined);
  if (tagged.length === 1) return tagged[0];
  const parents = await reader.listRuns({ parentsOnly: true, limit: 1000 });
  if (ref === 'last' || ref === 'latest') {
    if (parents[0]) return parents[0];
  }
  // Names and pipeline run ids first: a short ref such as "b2" must not also hit every server-made id ending in b2.
  const byName = parents.filter((r) => [r.name, r.tags[Tags.pipelineRunId]].some((name) => name && (name.startsWith(ref) || name.endsWith(ref))));
  const matches = byName.length ? byName : parents.filter((r) => r.id.startsWith(ref));
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) throw new Error(`run ${ref} is ambiguous: ${matches.slice(0, 5).map((r) => r.id).join(', ')}${matches.length > 5 ? ', ...' : ''}`);
  throw new Error(`no tracked run ${ref} in the ${reader.kind} tracker (see pipeline ui, or pipeline runs list)`);
}

const CI_RE = /^(.*)_ci_(low|high)$/;

/** Params that differ and metrics side by side (deltas against the first run) of two or more runs. */
export function compareRuns(runs: readonly TrackedRun[], opts: { allParams?: boolean; metricFilter?: RegExp; baseline?: number } = {}): Comparison {
  const b = opts.baseline !== undefined && opts.baseline >= 0 && opts.baseline < runs.length ? opts.baseline : 0;
  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const params: ParamRow[] = [];
  let sameParams = 0;
  for (const key of paramKeys) {
    const values = runs.map((r) => r.params[key]);
    if (!opts.allParams && values.every((v) => v === values[0])) {
      sameParams++;
      continue;
    }
    params.push({ key, values });
  }
  const allKeys = new Set(runs.flatMap((r) => Object.keys(r.metrics)));
  const metricKeys = [...allKeys].filter((k) => {
    const ci = CI_RE.exec(k);
    if (ci && allKeys.has(ci[1])) return false;
    return !opts.metricFilter || opts.metricFilter.test(k);
  });
  metricKeys.sort();
  const metrics = metricKeys.map((key): MetricRow => {
    const values = runs.map((r) => r.metrics[key]);
    const base = values[b];
    const row: MetricRow = { key, values, deltas: values.map((v) => (v === undefined || base === undefined ? undefined : v - base)) };
    if (allKeys.has(`${key}_ci_low`) && allKeys.has(`${key}_ci_high`)) {
      row.ci = runs.map((r) => {
        const lo = r.metrics[`${key}_ci_low`];
        const hi = r.metrics[`${key}_ci_high`];
        return lo === undefined || hi === undefined ? undefined : [lo, hi];
      });
      const baseCi = row.ci[b];
      row.deltaCi = row.ci.map((ci, i) => {
        const d = row.deltas[i];
        if (!ci || !baseCi || d === undefined || i === b) return undefined;
        const hw = Math.hypot((ci[1] - ci[0]) / 2, (baseCi[1] - baseCi[0]) / 2);
        return [d - hw, d + hw];
      });
    }
    return row;
  });
  return {
    runs: runs.map((r) => ({ id: r.id, name: r.name, experiment: r.experiment, status: r.status, startTime: r.startTime, ...(r.endTime ? { durationMs: r.endTime - r.startTime } : {}) })),
    params,
    sameParams,
    metrics,
    baseline: b,
  };
}

export function formatNumber(v: number | undefined): string {
  if (v === undefined) return '';
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? v.toExponential(3) : String(Number(v.toFixed(4)));
}

/** `0.86 [0.81, 0.90]`: value and bounds with the same decimals. */
export function formatWithCi(value: number, ci: readonly [number, number], decimals?: number): string {
  if ([value, ...ci].some((v) => v !== 0 && Math.abs(v) < 1e-3)) return `${formatNumber(value)} [${formatNumber(ci[0])}, ${formatNumber(ci[1])}]`;
  const f = formatEstimate(value, ci[0], ci[1], 4, decimals);
  return `${f.value} [${f.low}, ${f.high}]`;
}

function formatDelta(v: number | undefined): string {
  if (v === undefined) return '';
  if (v === 0) return '±0';
  return (v > 0 ? '+' : '') + formatNumber(v);
}

function cell(c: Comparison, row: MetricRow, i: number): string {
  const value = row.values[i];
  if (value === undefined) return '-';
  const ci = row.ci?.[i];
  const main = ci ? formatWithCi(value, ci) : formatNumber(value);
  return i === c.baseline || row.deltas[i] === undefined ? main : `${main} (${formatDelta(row.deltas[i])})`;
}

function header(c: Comparison): string[] {
  return c.runs.map((r) => (r.name === r.id ? r.id : `${r.name} (${r.id.slice(0, 12)})`));
}

/** Renders a comparison as a plain text table, a Markdown table or JSON. */
export function formatComparison(c: Comparison, format: 'table' | 'md' | 'json'): string {
  if (format === 'json') return JSON.stringify(c, null, 2);
  const runs = header(c);
  const paramRows = c.params.map((p) => [p.key, ...p.values.map((v) => v ?? '-')]);
  const metricRows = c.metrics.map((m) => [m.key, ...m.values.map((_, i) => cell(c, m, i))]);
  const sections: string[] = [];
  if (format === 'md') {
    const md = (title: string, rows: string[][]) => [`### ${title}`, '', `| ${[title === 'Params' ? 'param' : 'metric', ...runs].map(mdEscape).join(' | ')} |`, `|${' --- |'.repeat(runs.length + 1)}`, ...rows.map((r) => `| ${r.map(mdEscape).join(' | ')} |`)].join('\n');
    sections.push(md('Params', paramRows) + (c.sameParams ? `\n\n${c.sameParams} params are the same in every run.` : ''));
    sections.push(md('Metrics', metricRows));
    return sections.join('\n\n') + '\n';
  }
  sections.push(textTable(['param', ...runs], paramRows) + (c.sameParams ? `\n(${c.sameParams} params are the same in every run)` : ''));
  sections.push(textTable(['metric', ...runs], metricRows));
  return sections.join('\n\n') + '\n';
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function textTable(head: string[], rows: string[][]): string {
  const clip = (s: string) => (s.length > 60 ? s.slice(0, 57) + '...' : s);
  const all = [head, ...rows].map((r) => r.map(clip));
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((v, i) => (v ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}
