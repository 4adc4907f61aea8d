import { parseSetFlag, type Override } from '../experiment/overrides.ts';
import { DiagnosticError } from '../engine/diagnostics.ts';
import { loadExperiment, type Experiment, type LoadOptions } from '../experiment/load.ts';

/**
 * `--set PATH=VALUE` / `-S`, repeatable: changes to the experiment for this command only. Every
 * command that loads an experiment file takes it (and loads it with `loadWithOverrides`), so that
 * `export`, `status`, `checkout`... resolve the same stages, params and cache keys as `run -S`.
 */
export const overrideOptions = { set: { type: 'string', short: 'S', multiple: true } } as const;

/** For usage lines. */
export const OVERRIDE_USAGE = '[-S PATH=VALUE]';

export const OVERRIDE_HELP = `  -S, --set PATH=VALUE  change the experiment for this command only, e.g. -S params.epochs=2
                       -S stages.train.with.lr=3e-4 (VALUE is YAML: 3e-4 a number, [a, b] a list);
                       repeatable; the same -S flags as a run resolve the same stages and cache keys`;

/** Every `--set` flag parsed; all bad ones reported at once. */
export function parseOverrides(values: string[] | undefined): Override[] {
  return collectDiagnostics(values ?? [], (v) => parseSetFlag(v));
}

/** FILE loaded with the command's `-S` flags applied; bad flags are errors located at the flag. */
export async function loadWithOverrides(file: string, set: string[] | undefined, options: Omit<LoadOptions, 'overrides'> = {}): Promise<Experiment> {
  return loadExperiment(file, { ...options, overrides: parseOverrides(set) });
}

/** `-S PATH=VALUE` flags that reproduce recorded overrides (`params.lr=0.01`), for hints. */
export function overrideFlags(overrides: readonly string[]): string {
  return overrides.map((o) => `-S ${shellWord(o)}`).join(' ');
}

/** Whether two runs' recorded overrides are the same flags (in order: a path set twice keeps the last). */
export function sameOverrides(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((o, i) => o === b[i]);
}

/** Recorded overrides as the flags that give them, or "no -S overrides", for messages. */
export function describeOverrides(overrides: readonly string[]): string {
  return overrides.length ? overrideFlags(overrides) : 'no -S overrides';
}

export function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Maps every value; the DiagnosticErrors of all that fail are thrown together. */
export function collectDiagnostics<T, U>(values: readonly T[], fn: (value: T) => U): U[] {
  const out: U[] = [];
  const errors: DiagnosticError[] = [];
  for (const v of values) {
    try {
      out.push(fn(v));
    } catch (err) {
      if (!(err instanceof DiagnosticError)) throw err;
      errors.push(err);
    }
  }
  if (errors.length) throw new DiagnosticError(errors.flatMap((e) => e.diagnostics));
  return out;
}
