import { DiagnosticError, type Diagnostic } from '../engine/diagnostics.ts';
import { seededRandom } from '../util/random.ts';
import { flagLocation, inlineValue, parseValue, splitAssignment, type Override } from './overrides.ts';
import type { PathKey } from './yaml-source.ts';

export type Distribution =
  | { kind: 'uniform' | 'loguniform'; low: number; high: number }
  | { kind: 'int'; low: number; high: number }
  | { kind: 'choice'; values: unknown[] };

/** One `--sweep PATH=...` flag: a list of values (grid), or a distribution (random search). */
export interface SweepAxis {
  flag: string;
  path: PathKey[];
  /** `params.lr` */
  key: string;
  /** Grid values (also what `choice` and a plain list draw from in random search). */
  values?: unknown[];
  distribution?: Distribution;
}

export interface SweepVariant {
  /** `v3` */
  name: string;
  /** The swept values, by axis key (`params.lr` -> 0.001). */
  values: Record<string, unknown>;
  overrides: Override[];
}

const DIST_RE = /^(uniform|loguniform|int|choice)\((.*)\)$/s;

/**
 * Parses `--sweep PATH=V1,V2,...` (values split at commas outside brackets and quotes, each read as
 * YAML) or `--sweep PATH=loguniform(a,b)` / `uniform(a,b)` / `int(a,b)` / `choice(v1,v2,...)`.
 */
export function parseSweepFlag(text: string): SweepAxis {
  const flag = `--sweep ${text}`;
  const { path, valueText } = splitAssignment(text, flag);
  const key = path.join('.');
  const fail = (message: string, hint?: string) => new DiagnosticError([{ message, location: flagLocation(flag), hint }]);
  const dist = DIST_RE.exec(valueText.trim());
  if (dist) {
    const args = splitTopLevel(dist[2]).map((a) => parseValue(a, flag));
    if (dist[1] === 'choice') {
      if (!args.length) throw fail('choice() needs at least one value', 'e.g. choice(resnet18, resnet34)');
      return { flag, path, key, values: args, distribution: { kind: 'choice', values: args } };
    }
    const [low, high] = args;
    if (args.length !== 2 || typeof low !== 'number' || typeof high !== 'number' || !(low < high)) {
      throw fail(`${dist[1]}(low, high) needs two numbers with low < high, got ${dist[1]}(${dist[2]})`, `e.g. ${dist[1] === 'int' ? 'int(16, 64)' : `${dist[1]}(1e-4, 1e-2)`}`);
    }
    if (dist[1] === 'loguniform' && low <= 0) throw fail(`loguniform needs low > 0, got ${low}`);
    if (dist[1] === 'int' && !(Number.isInteger(low) && Number.isInteger(high))) throw fail(`int(low, high) takes integers, got int(${dist[2]})`);
    return { flag, path, key, distribution: { kind: dist[1] as 'uniform' | 'loguniform' | 'int', low, high } };
  }
  const parts = splitTopLevel(valueText);
  if (!parts.length || parts.some((p) => p.trim() === '')) throw fail(`expected PATH=V1,V2,... with no empty value, got ${JSON.stringify(text)}`, 'e.g. --sweep params.lr=1e-3,3e-4 (a random-search range: --sweep params.lr=loguniform(1e-4,1e-2) with --sweep-random N)');
  const values = parts.map((p) => parseValue(p, flag));
  return { flag, path, key, values };
}

/** Splits at commas that are not inside brackets, braces, parentheses or quotes. */
export function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === '"' || c === "'") quote = c;
    else if ('[{('.includes(c)) depth++;
    else if (']})'.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last || out.length) out.push(last);
  return out;
}

/** Every combination of the axes' values (the first axis varies slowest). */
export function gridVariants(axes: readonly SweepAxis[]): SweepVariant[] {
  const ranges = axes.filter((a) => a.distribution && a.distribution.kind !== 'choice');
  if (ranges.length) {
    throw new DiagnosticError(ranges.map((a): Diagnostic => ({ message: `${a.key}: a range (${a.distribution!.kind}) is sampled, not listed`, location: flagLocation(a.flag), hint: 'add --sweep-random N to draw N variants, or list values: --sweep params.lr=1e-3,3e-4' })));
  }
  let combos: Array<Record<string, unknown>> = [{}];
  for (const axis of axes) combos = combos.flatMap((c) => axis.values!.map((v) => ({ ...c, [axis.key]: v })));
  return combos.map((values, i) => variant(i, axes, values));
}

/**
 * `count` variants drawn with a seeded generator: uniform and loguniform give floats rounded to 4
 * significant digits (readable values and labels), int integers in [low, high] (both included), and
 * choice or a list one of its values. Repeated combinations are drawn again (up to 100 tries each).
 */
export function randomVariants(axes: readonly SweepAxis[], count: number, seed: number): SweepVariant[] {
  const random = seededRandom(seed);
  const seen = new Set<string>();
  const out: SweepVariant[] = [];
  for (let tries = 0; out.length < count && tries < count * 100; tries++) {
    const values: Record<string, unknown> = {};
    for (const axis of axes) values[axis.key] = draw(axis, random);
    const id = JSON.stringify(values);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(variant(out.length, axes, values));
  }
  return out;
}

function draw(axis: SweepAxis, random: () => number): unknown {
  const d = axis.distribution;
  if (!d || d.kind === 'choice') {
    const values = axis.values!;
    return values[Math.min(values.length - 1, Math.floor(random() * values.length))];
  }
  if (d.kind === 'int') return d.low + Math.min(d.high - d.low, Math.floor(random() * (d.high - d.low + 1)));
  const x = d.kind === 'uniform' ? d.low + random() * (d.high - d.low) : Math.exp(Math.log(d.low) + random() * (Math.log(d.high) - Math.log(d.low)));
  return Math.min(d.high, Math.max(d.low, Number(x.toPrecision(4))));
}

function variant(index: number, axes: readonly SweepAxis[], values: Record<string, unknown>): SweepVariant {
  return {
    name: `v${index + 1}`,
    values,
    overrides: axes.map((a) => ({ flag: `--sweep ${a.key}=${inlineValue(values[a.key])}`, path: a.path, value: values[a.key] })),
  };
}

/** What an axis sweeps over, for messages and the sweep's tracked params: `[0.001, 0.0003]` or `loguniform(0.0001, 0.01)`. */
export function describeAxis(axis: SweepAxis): string {
  const d = axis.distribution;
  if (d && d.kind !== 'choice') return `${d.kind}(${d.low}, ${d.high})`;
  return `${d ? 'choice' : ''}[${axis.values!.map(inlineValue).join(', ')}]`;
}
