import { Tags, type TrackedRun } from '../tracking/model.ts';

/**
 * The runs page's filter language: terms separated by `,` or ` and ` (all must hold).
 * - `key OP value` with OP one of `>=`, `<=`, `!=`, `=`, `>`, `<`, `~` (contains); the key is a metric
 *   (`evaluate/auc_macro`), a param (`train.lr`, `params.epochs`), `tags.<key>`, or one of `name`,
 *   `status`, `experiment`; prefixes `metric:`, `param:` and `tag:` force the kind. Numbers compare as
 *   numbers (`train.lr<=1e-3`), anything else as text.
 * - a plain word: case-insensitive text search over id, name, experiment, status and `param=value`.
 */
export interface FilterTerm {
  kind: 'metric' | 'param' | 'tag' | 'attr' | 'auto' | 'text';
  key: string;
  op: '>=' | '<=' | '!=' | '=' | '>' | '<' | '~' | 'text';
  value: string;
}

const TERM = /^\s*([^<>=!~]+?)\s*(>=|<=|!=|=|>|<|~)\s*(.*?)\s*$/;

export function parseFilter(q: string | undefined): FilterTerm[] {
  if (!q?.trim()) return [];
  return q
    .split(/\s*,\s*|\s+and\s+/i)
    .filter((t) => t.trim())
    .map((raw): FilterTerm => {
      const m = TERM.exec(raw);
      if (!m) return { kind: 'text', key: '', op: 'text', value: raw.trim().toLowerCase() };
      const [, key, op, value] = m;
      const forced = /^(metric|param|tag|tags|attr):(.+)$/.exec(key);
      if (forced) return { kind: forced[1] === 'tags' ? 'tag' : (forced[1] as FilterTerm['kind']), key: forced[2], op: op as FilterTerm['op'], value };
      if (key.startsWith('tags.')) return { kind: 'tag', key: key.slice(5), op: op as FilterTerm['op'], value };
      if (['name', 'status', 'experiment', 'id'].includes(key)) return { kind: 'attr', key, op: op as FilterTerm['op'], value };
      return { kind: 'auto', key, op: op as FilterTerm['op'], value };
    });
}

/** The value a column or filter key refers to in a run: metric first, then param, tag, attribute. */
export function runValue(run: TrackedRun, kind: FilterTerm['kind'], key: string): string | number | undefined {
  if (kind === 'metric') return run.metrics[key];
  if (kind === 'param') return run.params[key];
  if (kind === 'tag') return run.tags[key];
  if (kind === 'attr') return key === 'id' ? run.id : (run as unknown as Record<string, string>)[key];
  return run.metrics[key] ?? run.params[key] ?? run.params[`params.${key}`] ?? run.tags[key];
}

export function matches(run: TrackedRun, terms: readonly FilterTerm[]): boolean {
  return terms.every((t) => {
    if (t.kind === 'text') return searchText(run).includes(t.value);
    const v = runValue(run, t.kind, t.key);
    if (v === undefined) return t.op === '!=';
    return compare(v, t.op, t.value);
  });
}

function compare(v: string | number, op: FilterTerm['op'], raw: string): boolean {
  const a = typeof v === 'number' ? v : Number(v);
  const b = Number(raw);
  const numeric = raw.trim() !== '' && Number.isFinite(b) && Number.isFinite(a) && String(v).trim() !== '';
  if (op === '~') return String(v).toLowerCase().includes(raw.toLowerCase());
  if (op === '=') return numeric ? a === b : String(v) === raw;
  if (op === '!=') return numeric ? a !== b : String(v) !== raw;
  const [x, y] = numeric ? [a, b] : [String(v), raw];
  return op === '>' ? x > y : op === '<' ? x < y : op === '>=' ? x >= y : x <= y;
}

function searchText(r: TrackedRun): string {
  return [r.id, r.name, r.experiment, r.status, r.tags[Tags.pipelineRunId] ?? '', ...Object.entries(r.params).map(([k, v]) => `${k}=${v}`)].join('\n').toLowerCase();
}

/** A column of the runs table: `metric:<key>`, `param:<key>`, or an attribute (`name`, `start`, ...). */
export function columnValue(run: TrackedRun, column: string): string | number | undefined {
  if (column.startsWith('metric:')) return run.metrics[column.slice(7)];
  if (column.startsWith('param:')) {
    const raw = run.params[column.slice(6)];
    return raw !== undefined && raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  if (column.startsWith('tag:')) return run.tags[column.slice(4)];
  if (column === 'duration') return run.endTime ? run.endTime - run.startTime : undefined;
  if (column === 'start') return run.startTime;
  return (run as unknown as Record<string, string>)[column];
}

/** Sorts by a column; runs without a value go last whatever the direction. */
export function sortRuns(runs: readonly TrackedRun[], column: string, dir: 'asc' | 'desc'): TrackedRun[] {
  const sign = dir === 'asc' ? 1 : -1;
  return [...runs].sort((a, b) => {
    const va = columnValue(a, column);
    const vb = columnValue(b, column);
    if (va === undefined) return vb === undefined ? 0 : 1;
    if (vb === undefined) return -1;
    return (typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb), undefined, { numeric: true })) * sign;
  });
}
