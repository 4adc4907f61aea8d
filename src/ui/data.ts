import { compareRuns, type Comparison } from '../tracking/compare.ts';
import { Tags, type TrackedRun, type TrackReader } from '../tracking/model.ts';
import { extractReportData, type ConfusionMatrix, type RocCurve } from './report-data.ts';
import type { Series } from './svg.ts';

export interface RunsQuery {
  q?: string;
  sort?: string;
  dir?: 'asc' | 'desc';
  experiment?: string;
  /** Include stage-instance (child) runs. */
  all?: boolean;
}

export interface RunsTable {
  runs: TrackedRun[];
  metricColumns: string[];
  experiments: string[];
}

const MAX_METRIC_COLUMNS = 6;

/** Headline metrics first: evaluation aggregates (AUC first), then other aggregates, then per-class ones. */
function columnRank(key: string): number {
  const perClass = key.split('/').length > 2;
  const evaluation = key.startsWith('evaluate/');
  const auc = /\/auc_macro$/.test(key) ? 0 : /\/(auc|ap|f1)_(macro|micro)$/.test(key) ? 1 : 2;
  return (perClass ? 20 : 0) + (evaluation ? 0 : 10) + auc;
}

/** The runs list: filtered by free text (name, id, experiment, status, params, tags) and sorted. */
export async function runsTable(reader: TrackReader, query: RunsQuery): Promise<RunsTable> {
  const all = await reader.listRuns({ parentsOnly: !query.all, ...(query.experiment ? { experiment: query.experiment } : {}) });
  const experiments = [...new Set(all.map((r) => r.experiment))].sort();
  const needle = query.q?.trim().toLowerCase();
  let runs = needle ? all.filter((r) => searchText(r).includes(needle)) : all;
  const counts = new Map<string, number>();
  for (const r of runs) for (const k of Object.keys(r.metrics)) if (!/_ci_(low|high)$/.test(k)) counts.set(k, (counts.get(k) ?? 0) + 1);
  // Evaluation metrics first, then the most common ones.
  const metricColumns = [...counts.keys()]
    .filter((k) => !/_ci_(low|high)$/.test(k))
    .sort((a, b) => columnRank(a) - columnRank(b) || counts.get(b)! - counts.get(a)! || a.localeCompare(b))
    .slice(0, MAX_METRIC_COLUMNS);
  if (query.sort) {
    const sign = query.dir === 'asc' ? 1 : -1;
    const key = query.sort;
    const value = (r: TrackedRun): string | number | undefined => {
      if (key.startsWith('metric:')) return r.metrics[key.slice(7)];
      if (key === 'duration') return r.endTime ? r.endTime - r.startTime : undefined;
      if (key === 'start') return r.startTime;
      return (r as unknown as Record<string, string>)[key];
    };
    runs = [...runs].sort((a, b) => {
      const va = value(a);
      const vb = value(b);
      if (va === undefined) return vb === undefined ? 0 : 1;
      if (vb === undefined) return -1;
      return (typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb))) * sign;
    });
  }
  return { runs, metricColumns, experiments };
}

function searchText(r: TrackedRun): string {
  return [r.id, r.name, r.experiment, r.status, r.tags[Tags.pipelineRunId] ?? '', ...Object.entries(r.params).map(([k, v]) => `${k}=${v}`)].join('\n').toLowerCase();
}

export interface CompareView {
  comparison: Comparison;
  runs: TrackedRun[];
  curves: Array<{ metric: string; series: Series[] }>;
  roc: Array<{ name: string; series: Series[] }>;
  confusion: Array<{ run: TrackedRun; matrices: ConfusionMatrix[] }>;
  gallery: Array<{ run: TrackedRun; images: Array<{ runId: string; path: string; instance: string }> }>;
}

const MAX_CURVES = 8;
const MAX_IMAGES_PER_RUN = 12;

/** Everything the compare page shows, read from the tracker. */
export async function compareView(reader: TrackReader, runs: TrackedRun[]): Promise<CompareView> {
  const comparison = compareRuns(runs);
  const curveMap = new Map<string, Series[]>();
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
        if (curveMap.size >= MAX_CURVES && !curveMap.has(key)) continue;
        const history = await reader.metricHistory(unit.id, key);
        const steps = new Set(history.map((h) => h.step));
        if (steps.size < 2) continue;
        // One point per step: the last value logged at it.
        const byStep = new Map<number, number>();
        for (const h of history) byStep.set(h.step, h.value);
        const points = [...byStep].sort((a, b) => a[0] - b[0]);
        const list = curveMap.get(key) ?? [];
        list.push({ label, points });
        curveMap.set(key, list);
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
  return {
    comparison,
    runs,
    curves: [...curveMap].map(([metric, series]) => ({ metric, series })),
    roc: [...rocMap].map(([name, series]) => ({ name, series })),
    confusion,
    gallery,
  };
}

function addRoc(map: Map<string, Series[]>, curve: RocCurve, label: string): void {
  const list = map.get(curve.name) ?? [];
  list.push({ label: curve.auc !== undefined ? `${label} (AUC ${curve.auc.toFixed(3)})` : label, points: curve.fpr.map((x, i) => [x, curve.tpr[i]] as const) });
  map.set(curve.name, list);
}
