import { compareRuns, type Comparison } from '../tracking/compare.ts';
import { Tags, type TrackedRun, type TrackReader } from '../tracking/model.ts';
import { isVariant } from '../tracking/sweep-table.ts';
import { extractReportData, type ConfusionMatrix, type RocCurve } from './report-data.ts';
import type { Series } from './svg.ts';
import { matches, parseFilter, sortRuns } from './run-filter.ts';
import { isLearningRate } from '../evaluation/learning-curves.ts';
import type { SweepPoint } from './sweep-charts.ts';
import { errorText } from '../util/error-text.ts';
import { byExperiment, differingParams, MAX_METRIC_COLUMNS, MAX_PARAM_COLUMNS, rankedMetrics, takeInTurn } from './columns.ts';

/** `experiment=*`: the runs of every experiment (without `experiment`, the latest run's experiment). */
export const ALL_EXPERIMENTS = '*';

export interface RunsQuery {
  /** Filter expression (see run-filter.ts): `evaluate/auc_macro>0.8, train.lr<=1e-3, resnet`. */
  q?: string;
  /** Column to sort by: `metric:<key>`, `param:<key>`, `name`, `status`, `start`, `duration`, ... */
  sort?: string;
  dir?: 'asc' | 'desc';
  /** An experiment's name, or ALL_EXPERIMENTS; default: the experiment of the latest run. */
  experiment?: string;
  /** Include stage-instance (child) runs. */
  all?: boolean;
  /** The metric the sweep views plot and colour by (default: the first metric column). */
  metric?: string;
  /** Extra columns, comma-separated `param:<key>` / `metric:<key>`. */
  cols?: string;
  /** A sweep's parent run: list its variant runs (pipeline runs whose parent is that run). */
  group?: string;
}

/** The sweep views of one experiment's listed runs: its params that differ against its metric. */
export interface SweepView {
  experiment: string;
  runs: TrackedRun[];
  params: string[];
  metric?: string;
}

export interface RunsTable {
  runs: TrackedRun[];
  /** Params whose values differ among the listed runs of an experiment (a sweep's swept params), then requested ones. */
  paramColumns: string[];
  metricColumns: string[];
  /** Every experiment with runs, for the picker. */
  experiments: string[];
  /** The experiment listed (undefined: all); `defaulted` when the query named none. */
  experiment?: string;
  defaulted: boolean;
  /** Every metric and param key of the listed runs, for the pickers. */
  metricKeys: string[];
  paramKeys: string[];
  metric?: string;
  /** One per experiment among the listed runs: runs of different experiments are never plotted together. */
  sweeps: SweepView[];
  /** Runs that are sweep parents (have variant runs), with how many. */
  groups: Map<string, number>;
  group?: TrackedRun;
  filterError?: string;
}

export { isVariant } from '../tracking/sweep-table.ts';
export { differingParams } from './columns.ts';

/**
 * The experiment the runs page lists: the query's; else, for the top-level list with runs of more
 * than one experiment, the latest run's (as MLflow opens one experiment: metrics and params of
 * unrelated experiments would otherwise share the columns and the plots).
 */
function shownExperiment(query: RunsQuery, tops: readonly TrackedRun[], experiments: readonly string[]): string | undefined {
  if (query.experiment) return query.experiment === ALL_EXPERIMENTS ? undefined : query.experiment;
  const filtersExperiment = (() => {
    try {
      return parseFilter(query.q).some((t) => t.kind === 'attr' && t.key === 'experiment');
    } catch {
      return false;
    }
  })();
  if (query.group || filtersExperiment || experiments.length < 2) return undefined;
  return tops.reduce((a, b) => (b.startTime > a.startTime ? b : a)).experiment;
}

/** The runs list: filtered (filter language of run-filter.ts), sorted by any column, with the swept params as columns. */
export async function runsTable(reader: TrackReader, query: RunsQuery): Promise<RunsTable> {
  const wantChildren = query.all || query.group;
  const tops = await reader.listRuns({ parentsOnly: true });
  const experiments = [...new Set(tops.map((r) => r.experiment))].sort();
  const experiment = shownExperiment(query, tops, experiments);
  const all = wantChildren ? await reader.listRuns({ ...(experiment ? { experiment } : {}) }) : experiment ? tops.filter((r) => r.experiment === experiment) : tops;
  const groups = new Map<string, number>();
  for (const r of wantChildren ? all : await variantsOf(reader, all, experiment)) if (isVariant(r)) groups.set(r.parentId!, (groups.get(r.parentId!) ?? 0) + 1);
  let listed = query.group ? all.filter((r) => r.parentId === query.group && isVariant(r)) : query.all ? all : all.filter((r) => !r.parentId);
  let filterError: string | undefined;
  try {
    const terms = parseFilter(query.q);
    listed = listed.filter((r) => matches(r, terms));
  } catch (err) {
    filterError = errorText(err);
  }
  const perExperiment = [...byExperiment(listed)];
  const ranked = perExperiment.map(([, runs]) => rankedMetrics(runs));
  const differing = perExperiment.map(([, runs]) => differingParams(runs));
  const metricKeys = takeInTurn(ranked, Infinity);
  const paramKeys = [...new Set(listed.flatMap((r) => Object.keys(r.params)))].sort();
  const requested = (query.cols ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  const requestedParams = requested.filter((c) => c.startsWith('param:')).map((c) => c.slice(6));
  const paramColumns = [...new Set([...takeInTurn(differing, MAX_PARAM_COLUMNS), ...requestedParams])];
  const metricColumns = [...new Set([...takeInTurn(ranked, MAX_METRIC_COLUMNS), ...requested.filter((c) => c.startsWith('metric:')).map((c) => c.slice(7))])];
  const metric = query.metric && metricKeys.includes(query.metric) ? query.metric : metricColumns[0];
  const sweeps = perExperiment.map(([name, runs], i): SweepView => ({
    experiment: name,
    runs,
    params: paramColumns.filter((k) => differing[i].includes(k) || requestedParams.includes(k)),
    metric: query.metric && ranked[i].includes(query.metric) ? query.metric : perExperiment.length > 1 ? ranked[i][0] : metric,
  }));
  const runs = query.sort ? sortRuns(listed, query.sort, query.dir ?? 'desc') : listed;
  const group = query.group ? await reader.getRun(query.group) : undefined;
  return { runs, paramColumns, metricColumns, experiments, experiment, defaulted: !query.experiment && experiment !== undefined, metricKeys, paramKeys, metric, sweeps, groups, group, filterError };
}

/** Variant runs of the listed sweep parents (looked up only when a listed run is tagged pipeline.sweep). */
async function variantsOf(reader: TrackReader, parents: readonly TrackedRun[], experiment?: string): Promise<TrackedRun[]> {
  const sweeps = new Set(parents.filter((r) => r.tags[Tags.sweep] !== undefined).map((r) => r.id));
  if (!sweeps.size) return [];
  return (await reader.listRuns({ ...(experiment ? { experiment } : {}) })).filter((r) => isVariant(r) && sweeps.has(r.parentId!));
}

/** The sweep views' points: each run's param values, the chosen metric and its CI. */
export function sweepPoints(runs: readonly TrackedRun[], metric: string): SweepPoint[] {
  return runs.map((r) => {
    const low = r.metrics[`${metric}_ci_low`];
    const high = r.metrics[`${metric}_ci_high`];
    return { id: r.id, label: r.name, params: r.params, value: r.metrics[metric], ...(low !== undefined && high !== undefined ? { ci: [low, high] as [number, number] } : {}) };
  });
}

export interface CompareView {
  comparison: Comparison;
  runs: TrackedRun[];
  /** One chart per metric, and per experiment when the runs are of several (a detector's loss is not a classifier's). */
  curves: Array<{ metric: string; experiment?: string; series: Series[] }>;
  roc: Array<{ name: string; series: Series[] }>;
  confusion: Array<{ run: TrackedRun; matrices: ConfusionMatrix[] }>;
  gallery: Array<{ run: TrackedRun; images: Array<{ runId: string; path: string; instance: string }> }>;
}

const MAX_CURVES = 12;
const MAX_IMAGES_PER_RUN = 12;

/** Everything the compare page shows, read from the tracker; deltas against run `baseline` (index). */
export async function compareView(reader: TrackReader, runs: TrackedRun[], baseline = 0): Promise<CompareView> {
  const comparison = compareRuns(runs, { baseline });
  const curveMap = new Map<string, { metric: string; experiment?: string; series: Series[] }>();
  const mixed = new Set(runs.map((r) => r.experiment)).size > 1;
  const rocMap = new Map<string, Series[]>();
  const confusion: CompareView['confusion'] = [];
  const gallery: CompareView['gallery'] = [];
  const multi = runs.length > 1;
  for (const run of runs) {
    const units = run.parentId ? [run] : await reader.children(run.id);
    const matrices: ConfusionMatrix[] = [];
    const images: CompareView['gallery'][number]['images'] = [];
    for (const unit of units) {
      const instance = unit.tags[Tags.instance] ?? unit.name;
      const label = multi ? `${run.name} · ${instance}` : instance;
      for (const key of Object.keys(unit.metrics)) {
        const chart = mixed ? `${key}\u0000${run.experiment}` : key;
        if (curveMap.size >= MAX_CURVES && !curveMap.has(chart)) continue;
        const history = await reader.metricHistory(unit.id, key);
        const steps = new Set(history.map((h) => h.step));
        if (steps.size < 2) continue;
        // One point per step: the last value logged at it.
        const byStep = new Map<number, number>();
        for (const h of history) byStep.set(h.step, h.value);
        const points = [...byStep].sort((a, b) => a[0] - b[0]);
        const entry = curveMap.get(chart) ?? { metric: key, ...(mixed ? { experiment: run.experiment } : {}), series: [] };
        entry.series.push({ label, points, group: run.name });
        curveMap.set(chart, entry);
      }
      const files = await reader.listArtifacts(unit.id);
      if (files.includes('report.json')) {
        const raw = await reader.readArtifact(unit.id, 'report.json');
        let parsed: unknown;
        try {
          parsed = raw ? JSON.parse(raw.toString('utf8')) : undefined;
        } catch {
          parsed = undefined;
        }
        const data = extractReportData(parsed);
        for (const curve of data.roc) addRoc(rocMap, curve, multi ? run.name : instance);
        matrices.push(...data.confusion.map((c) => ({ ...c, name: `${instance}: ${c.name}` })));
      }
      for (const path of files) if (/\.(png|jpe?g)$/i.test(path) && images.length < MAX_IMAGES_PER_RUN) images.push({ runId: unit.id, path, instance });
    }
    if (matrices.length) confusion.push({ run, matrices });
    if (images.length) gallery.push({ run, images });
  }
  // Losses first, then scores, the learning rate last: each on its own axes.
  const curveRank = (k: string) => (isLearningRate(k) ? 2 : /loss/i.test(k) ? 0 : 1);
  return {
    comparison,
    runs,
    curves: [...curveMap.values()].sort((a, b) => curveRank(a.metric) - curveRank(b.metric) || a.metric.localeCompare(b.metric) || (a.experiment ?? '').localeCompare(b.experiment ?? '')),
    roc: [...rocMap].map(([name, series]) => ({ name, series })),
    confusion,
    gallery,
  };
}

function addRoc(map: Map<string, Series[]>, curve: RocCurve, label: string): void {
  const list = map.get(curve.name) ?? [];
  list.push({ label: curve.auc !== undefined ? `${label} (AUC ${curve.auc.toFixed(3)})` : label, points: curve.fpr.map((x, i) => [x, curve.tpr[i]] as const), group: label });
  map.set(curve.name, list);
}
