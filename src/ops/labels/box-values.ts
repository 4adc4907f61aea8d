import type { LabelIssues } from './issues.ts';

/**
 * Numbers of a box as written (`raw`, named by `names` for the message); undefined after reporting a
 * `malformed` issue when one is missing or not a finite number.
 */
export function boxNumbers(raw: ReadonlyArray<string | number | undefined>, names: readonly string[], at: string, issues: LabelIssues, image?: string): number[] | undefined {
  const values = raw.map((v) => (typeof v === 'number' ? v : v === undefined || v.trim() === '' ? NaN : Number(v)));
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad < 0) return values;
  issues.report('malformed', at, `${names[bad]} ${JSON.stringify(raw[bad] ?? null)} is not a number (box ${names.map((n, k) => `${n}=${raw[k] ?? ''}`).join(' ')})`, image);
  return undefined;
}

/** Reports a `degenerate` issue when a written extent is zero or negative; true when the box must go. */
export function isDegenerate(width: number, height: number, written: string, at: string, issues: LabelIssues, image?: string): boolean {
  if (width > 0 && height > 0) return false;
  issues.report('degenerate', at, `degenerate box (${written}: ${width <= 0 ? 'width' : 'height'} ${width <= 0 ? width : height} as written)`, image);
  return true;
}

/** Reports an `unknown_class` issue when `classes` is given and lacks `label`; true when the box must go. */
export function isUnknownClass(label: string, classes: ReadonlySet<string> | undefined, at: string, issues: LabelIssues, image?: string): boolean {
  if (!classes || classes.has(label)) return false;
  issues.report('unknown_class', at, `class "${label}" is not one of the known classes (${[...classes].slice(0, 20).join(', ')}${classes.size > 20 ? ', ...' : ''})`, image);
  return true;
}
