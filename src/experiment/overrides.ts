import { parse as parseYaml, YAMLParseError } from 'yaml';
import { DiagnosticError, didYouMean, type Diagnostic, type SourceLocation } from '../engine/diagnostics.ts';
import type { PathKey, YamlSource } from './yaml-source.ts';
import { valueAt } from './value-at.ts';
import { errorText } from '../util/error-text.ts';

/** One command-line change to the experiment: `--set stages.train.with.lr=3e-4`. */
export interface Override {
  /** The flag as typed, for messages: `--set params.lr=3e-4`. */
  flag: string;
  path: PathKey[];
  /** The value, read as YAML (`3e-4` is a number, `[a, b]` a list, `true` a boolean). */
  value: unknown;
}

const ROOTS = ['params', 'stages', 'tracking', 'name', 'description'];
const PATH_RE = /^[A-Za-z_][\w-]*(\.[\w-]+)*$/;

/** Parses `PATH=VALUE` of a `--set` flag; the value is YAML-typed. Throws a DiagnosticError located at the flag. */
export function parseSetFlag(text: string, flagName = '--set'): Override {
  const flag = `${flagName} ${text}`;
  const { path, valueText } = splitAssignment(text, flag);
  return { flag, path, value: parseValue(valueText, flag) };
}

/** `params.lr=3e-4` -> path and the text after the first `=`. */
export function splitAssignment(text: string, flag: string): { path: PathKey[]; valueText: string } {
  const eq = text.indexOf('=');
  if (eq < 0) throw flagError(flag, `expected PATH=VALUE, got ${JSON.stringify(text)}`, 'e.g. --set params.epochs=2 or --set stages.train.with.lr=3e-4');
  const pathText = text.slice(0, eq).trim();
  if (!PATH_RE.test(pathText)) throw flagError(flag, `${JSON.stringify(pathText)} is not a path into the experiment`, 'dot-separated keys: params.NAME, stages.STAGE.with.PARAM, stages.STAGE.foreach.KEY, tracking.KEY');
  const path = pathText.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  if (!ROOTS.includes(String(path[0]))) {
    const guess = didYouMean(String(path[0]), ROOTS);
    throw flagError(flag, `cannot set ${pathText}: the path must start with ${ROOTS.join(', ')}`, guess ? `did you mean "${[guess, ...path.slice(1)].join('.')}"?` : undefined);
  }
  return { path, valueText: text.slice(eq + 1) };
}

/** A YAML scalar or flow value as the experiment file would read it. */
export function parseValue(text: string, flag: string): unknown {
  try {
    return parseYaml(text, { prettyErrors: false });
  } catch (err) {
    const reason = err instanceof YAMLParseError ? err.message.split('\n')[0] : errorText(err);
    throw flagError(flag, `the value is not valid YAML: ${reason}`, 'quote strings that contain YAML syntax: --set \'params.note="a: b"\'');
  }
}

export function flagLocation(flag: string): SourceLocation {
  return { file: 'command line', line: 0, col: 0, flag };
}

function flagError(flag: string, message: string, hint?: string): DiagnosticError {
  return new DiagnosticError([{ message, location: flagLocation(flag), hint }]);
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Applies overrides to the merged experiment document (after `extends`): each sets the value at its
 * path. A stage must exist, a param must be defined or referenced (`${params.x}`), and the path must
 * go through mappings (or list indexes); anything else is a diagnostic located at the flag.
 */
export function applyOverrides(doc: Record<string, unknown>, overrides: readonly Override[]): Record<string, unknown> {
  const out = structuredClone(doc);
  const diags: Diagnostic[] = [];
  const text = JSON.stringify(doc);
  for (const o of overrides) {
    const problem = checkTarget(out, o, text);
    if (problem) {
      diags.push({ ...problem, location: flagLocation(o.flag) });
      continue;
    }
    setAt(out, o.path, o.value);
  }
  if (diags.length) throw new DiagnosticError(diags);
  return out;
}

function checkTarget(doc: Record<string, unknown>, o: Override, docText: string): Omit<Diagnostic, 'location'> | undefined {
  const [root, id] = o.path;
  const shown = o.path.join('.');
  if (root === 'stages' && id !== undefined) {
    const stages = isObject(doc.stages) ? doc.stages : {};
    if (!(String(id) in stages)) {
      const guess = didYouMean(String(id), Object.keys(stages));
      return { message: `cannot set ${shown}: the experiment has no stage ${id}`, hint: guess ? `did you mean "${guess}"?` : `stages: ${Object.keys(stages).join(', ')}` };
    }
  }
  let cur: unknown = doc;
  for (const [i, key] of o.path.slice(0, -1).entries()) {
    const next = Array.isArray(cur) && typeof key === 'number' ? cur[key] : isObject(cur) ? cur[String(key)] : undefined;
    if (next === undefined || next === null) return undefined; // created as a mapping
    if (typeof next !== 'object') return { message: `cannot set ${shown}: ${o.path.slice(0, i + 1).join('.')} is ${JSON.stringify(next)}, not a mapping` };
    cur = next;
  }
  if (root === 'params' && o.path.length > 1) {
    const ref = `\${params.${o.path.slice(1).join('.')}`;
    if (valueAt(doc, o.path) === undefined && !docText.includes(ref)) {
      const parent = valueAt(doc, o.path.slice(0, -1));
      const known = isObject(parent) ? Object.keys(parent) : [];
      const guess = didYouMean(String(o.path.at(-1)), known);
      return { message: `cannot set ${shown}: the experiment has no param ${o.path.slice(1).join('.')} and nothing uses \${${shown}}`, hint: guess ? `did you mean "${[...o.path.slice(0, -1), guess].join('.')}"?` : known.length ? `params: ${known.join(', ')}` : undefined };
    }
  }
  const last = o.path.at(-1)!;
  if (Array.isArray(cur) && (typeof last !== 'number' || last > cur.length)) return { message: `cannot set ${shown}: ${o.path.slice(0, -1).join('.')} is a list of ${cur.length}; use an index 0..${cur.length}` };
  return undefined;
}


function setAt(doc: Record<string, unknown>, path: readonly PathKey[], value: unknown): void {
  let cur: any = doc;
  for (const [i, key] of path.slice(0, -1).entries()) {
    if (cur[key] === undefined || cur[key] === null) cur[key] = typeof path[i + 1] === 'number' ? [] : {};
    cur = cur[key];
  }
  cur[path.at(-1)!] = value;
}

/** Locates a diagnostic at the flag that set its path (or a parent of it); other paths are not in this "source". */
export function overrideSource(overrides: readonly Override[]): YamlSource {
  const owner = (path: readonly PathKey[]) => [...overrides].reverse().find((o) => o.path.length <= path.length && o.path.every((k, i) => String(k) === String(path[i])));
  return {
    file: 'command line',
    value: {},
    locate: (path) => flagLocation(owner(path)?.flag ?? overrides[0]?.flag ?? '--set'),
    has: (path) => owner(path) !== undefined,
  };
}

/** `params.lr=0.0003`: an override as recorded in run records and tracking (the value as YAML would read it back). */
export function overrideText(o: Pick<Override, 'path' | 'value'>): string {
  return `${o.path.join('.')}=${inlineValue(o.value)}`;
}

/** A value in one line that reads back as the same YAML value. */
export function inlineValue(value: unknown): string {
  if (typeof value === 'string') {
    try {
      if (parseYaml(value) === value && !/[,\n]/.test(value) && value.trim() === value && value !== '') return value;
    } catch {
      // not plain YAML: quote it
    }
    return JSON.stringify(value);
  }
  if (value === null || value === undefined) return 'null';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** For a value written `${params.x}` whose param was overridden: where the value came from. */
export function overriddenParamHint(raw: unknown, path: readonly PathKey[], overrides: readonly Override[]): string | undefined {
  const value = valueAt(raw, path);
  if (typeof value !== 'string') return undefined;
  for (const m of value.matchAll(/\$\{\s*params\.([^}:\s]+)/g)) {
    const ref = ['params', ...m[1].split('.')];
    const o = [...overrides].reverse().find((x) => x.path[0] === 'params' && x.path.every((k, i) => i >= ref.length || String(k) === ref[i]) && x.path.length <= ref.length);
    if (o) return `the value comes from \${params.${m[1]}}, set on the command line: ${o.flag}`;
  }
  return undefined;
}
