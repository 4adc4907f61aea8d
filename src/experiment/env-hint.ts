import { valueAt } from './value-at.ts';

/**
 * The environment variables an uninterpolated value reads, directly (`${env.DATA}`) or through the
 * experiment's params (`${params.data}` whose own value is `${env.DATA:-data/x}`), for hints such as
 * "this path comes from DATA (not set)".
 */
export function envVarsBehind(raw: unknown, rawParams: Record<string, unknown>, depth = 0): string[] {
  const names = new Set<string>();
  for (const text of strings(raw)) {
    for (const m of text.matchAll(/\$\{env\.([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1]);
    if (depth >= 4) continue;
    for (const m of text.matchAll(/\$\{params\.([A-Za-z0-9_.-]+)\}/g)) {
      const value = valueAt(rawParams, m[1].split('.'));
      for (const name of envVarsBehind(value, rawParams, depth + 1)) names.add(name);
    }
  }
  return [...names];
}

/** ` (this path comes from BCCD_DIR, not set)`-style text for the variables behind a value, or ''. */
export function envHint(names: readonly string[], env: Record<string, string | undefined>): string {
  if (!names.length) return '';
  return `; this path comes from ${names.map((n) => (env[n] === undefined ? `$${n} (not set)` : `$${n}=${env[n]}`)).join(', ')}`;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}
