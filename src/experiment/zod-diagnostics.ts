import type { z } from 'zod';
import { didYouMean, type Diagnostic, type SourceLocation } from '../engine/diagnostics.ts';
import type { PathKey } from './yaml-source.ts';
import { valueAt } from './value-at.ts';
import { schemaKeysAt } from './zod-paths.ts';

export interface ZodDiagnosticsOptions {
  /** Where the validated value sits in the file (`['stages', id, 'with']`), or [] for the whole file. */
  prefix: PathKey[];
  schema: z.ZodType;
  /** The value that was validated (to show what was given). */
  input: unknown;
  at: (path: PathKey[], which?: 'key' | 'value') => SourceLocation;
  /** Who is speaking: `experiment`, `stage c (command)`. */
  what: string;
  /** Paths (with the prefix) already reported otherwise: issues at or under them are dropped. */
  skip?: readonly PathKey[][];
  /** A hint for a value at `path` when the issue has none (e.g. where an interpolated value came from). */
  hintAt?: (path: PathKey[]) => string | undefined;
}

/** zod issues as located diagnostics: unknown keys with did-you-mean, wrong values with what is allowed. */
export function zodDiagnostics(error: z.ZodError, o: ZodDiagnosticsOptions): Diagnostic[] {
  const { prefix, what } = o;
  return error.issues.flatMap((issue: any): Diagnostic[] => {
    const path = [...prefix, ...(issue.path as PathKey[])];
    if (o.skip?.some((s) => s.length <= path.length && s.every((k, i) => String(k) === String(path[i])))) return [];
    const label = prefix.length ? `with.${issue.path.join('.')}` : issue.path.length ? issue.path.join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys') {
      const known = schemaKeysAt(o.schema, issue.path);
      return issue.keys.map((key: string) => {
        const guess = didYouMean(key, known);
        const name = prefix.length ? ['with', ...issue.path, key].join('.') : [...issue.path, key].join('.');
        return { message: `${what}: unknown ${prefix.length ? 'param' : 'key'} ${name}`, location: o.at([...path, key], 'key'), hint: guess ? `did you mean "${guess}"?` : known.length ? `known: ${known.join(', ')}` : undefined };
      });
    }
    const allowed = allowedValues(issue);
    if (!allowed) return [{ message: `${what}: ${label}: ${issue.message}`, location: o.at(path), hint: o.hintAt?.(path) }];
    const given = valueAt(o.input, issue.path);
    const words = allowed.map((a) => (a.kind === 'value' ? JSON.stringify(a.value) : a.type));
    const guess = typeof given === 'string' ? didYouMean(given, allowed.flatMap((a) => (a.kind === 'value' && typeof a.value === 'string' ? [a.value] : []))) : undefined;
    const expected = words.length > 1 ? `one of ${words.join(', ')}` : words[0];
    const message = given === undefined ? `${label} is missing (expected ${expected})` : `${label}: got ${show(given)}, expected ${expected}`;
    return [{ message: `${what}: ${message}`, location: o.at(path), hint: guess ? `did you mean "${guess}"?` : o.hintAt?.(path) }];
  });
}

type Allowed = { kind: 'value'; value: unknown } | { kind: 'type'; type: string };

const TYPE_WORDS: Record<string, string> = { object: 'a mapping', array: 'a list', number: 'a number', string: 'a string', boolean: 'true or false', int: 'an integer' };

/** What an enum, literal, type or union mismatch accepts at the issue's own path; undefined for other issues. */
function allowedValues(issue: any): Allowed[] | undefined {
  if (issue.code === 'invalid_value') return (issue.values as unknown[]).map((value) => ({ kind: 'value', value }));
  if (issue.code === 'invalid_type') return [{ kind: 'type', type: TYPE_WORDS[issue.expected] ?? issue.expected }];
  if (issue.code !== 'invalid_union' || !Array.isArray(issue.errors)) return undefined;
  const out: Allowed[] = [];
  for (const branch of issue.errors as any[][]) {
    // A branch that failed deeper inside (a key of a mapping) says nothing about the value's own shape.
    const own = branch.filter((b) => b.path.length === 0);
    if (own.length !== branch.length) return undefined;
    for (const b of own) {
      const more = allowedValues(b);
      if (!more) return undefined;
      for (const a of more) if (!out.some((x) => JSON.stringify(x) === JSON.stringify(a))) out.push(a);
    }
  }
  return out.length ? out : undefined;
}


function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
