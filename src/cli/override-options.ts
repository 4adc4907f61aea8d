import { parseSetFlag, type Override } from '../experiment/overrides.ts';
import { DiagnosticError } from '../engine/diagnostics.ts';

/** `--set PATH=VALUE` / `-S`, repeatable: changes to the experiment for this command only. */
export const overrideOptions = { set: { type: 'string', short: 'S', multiple: true } } as const;

export const OVERRIDE_HELP = `  -S, --set PATH=VALUE  change the experiment for this command only, e.g. -S params.epochs=2
                       -S stages.train.with.lr=3e-4 (VALUE is YAML: 3e-4 a number, [a, b] a list);
                       repeatable; recorded in the run record and tracking (tag pipeline.overrides)`;

/** Every `--set` flag parsed; all bad ones reported at once. */
export function parseOverrides(values: string[] | undefined): Override[] {
  return collectDiagnostics(values ?? [], (v) => parseSetFlag(v));
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
