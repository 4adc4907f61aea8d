import { didYouMean } from '../engine/diagnostics.ts';
import type { PathKey } from './yaml-source.ts';

export interface Scope {
  params: Record<string, unknown>;
  env: Record<string, string | undefined>;
  /** Foreach values of the instance being resolved (absent outside foreach). */
  each?: Record<string, unknown>;
  /** Read whole-string `${env.X}` values as numbers/booleans when they look like one (the params: block). */
  typedEnv?: boolean;
}

export interface InterpolationProblem {
  path: PathKey[];
  message: string;
  hint?: string;
}

const EXPR = /\$\{([^}]*)\}/g;
const WHOLE = /^\$\{([^}]*)\}$/;

/**
 * Replaces `${params.a.b}`, `${env.NAME}`, `${env.NAME:-default}` and `${each.key}` in every string of
 * `value`. A string that is exactly one expression takes the referenced value's type (`"${params.size}"`
 * stays a number). Problems are collected with the path of the offending string.
 */
export function interpolate(value: unknown, scope: Scope, problems: InterpolationProblem[], path: PathKey[] = []): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) {
      const v = lookup(whole[1], scope, problems, path);
      // In params:, a whole-string environment value is read as a YAML scalar so "64" is a number.
      return v === undefined ? value : scope.typedEnv && whole[1].trim().startsWith('env.') ? parseScalar(String(v)) : v;
    }
    return value.replace(EXPR, (_, expr: string) => {
      const v = lookup(expr, scope, problems, path);
      return v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, scope, problems, [...path, i]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, scope, problems, [...path, k]);
    return out;
  }
  return value;
}

function lookup(rawExpr: string, scope: Scope, problems: InterpolationProblem[], path: PathKey[]): unknown {
  const expr = rawExpr.trim();
  const [ref, fallback] = splitDefault(expr);
  const [root, ...rest] = ref.split('.');
  if (root === 'env') {
    const name = rest.join('.');
    const v = scope.env[name];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    problems.push({ path, message: `environment variable ${name} is not set (used in \${${expr}})`, hint: `set it, or give a default: \${env.${name}:-value}` });
    return undefined;
  }
  if (root === 'params' || root === 'each') {
    const base = root === 'params' ? scope.params : scope.each;
    if (!base) {
      problems.push({ path, message: `\${${expr}} is only available in a stage with foreach:`, hint: 'add foreach: to this stage, or use ${params.…}' });
      return undefined;
    }
    let cur: unknown = base;
    for (const [i, key] of rest.entries()) {
      if (cur && typeof cur === 'object' && key in (cur as object)) cur = (cur as Record<string, unknown>)[key];
      else {
        if (fallback !== undefined) return fallback;
        const known = cur && typeof cur === 'object' ? Object.keys(cur) : [];
        const guess = didYouMean(key, known);
        const name = [root, ...rest.slice(0, i + 1)].join('.');
        problems.push({
          path,
          message: `unknown ${root === 'params' ? 'param' : 'foreach key'} ${name} in \${${expr}}`,
          hint: guess ? `did you mean ${[root, ...rest.slice(0, i), guess].join('.')}?` : known.length ? `known: ${known.join(', ')}` : `define it under ${root === 'params' ? 'params:' : 'foreach:'}`,
        });
        return undefined;
      }
    }
    return cur;
  }
  problems.push({ path, message: `cannot interpolate \${${expr}}`, hint: 'use ${params.NAME}, ${env.NAME} or ${each.KEY}' });
  return undefined;
}

function parseScalar(text: string): unknown {
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  return text;
}

function splitDefault(expr: string): [string, string | undefined] {
  const i = expr.indexOf(':-');
  return i < 0 ? [expr, undefined] : [expr.slice(0, i).trim(), expr.slice(i + 2)];
}

/** Expands a foreach value: a list, or "range(n)" / "range(a, b)". */
export function expandForeachValues(value: unknown): unknown[] | string {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') {
    const m = /^\s*range\(\s*(-?\d+)\s*(?:,\s*(-?\d+)\s*)?\)\s*$/.exec(value);
    if (m) {
      const [start, end] = m[2] === undefined ? [0, Number(m[1])] : [Number(m[1]), Number(m[2])];
      return Array.from({ length: Math.max(0, end - start) }, (_, i) => start + i);
    }
  }
  return `foreach values must be a list or "range(n)", got ${JSON.stringify(value)}`;
}
