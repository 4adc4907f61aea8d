import { sha256 } from '../util/hash.ts';

/** MLflow's limits (documented for log-batch; every backend is guaranteed to accept these). */
export const Limits = {
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  itemsPerBatch: 1000,
  keyLength: 250,
  paramValueLength: 500,
  tagValueLength: 5000,
  /** MLflow's MAX_BATCH_LOG_REQUEST_SIZE (1 MB of request JSON); we stay below it with a margin. */
  requestBytes: 900_000,
} as const;

/**
 * MLflow's key rules (mlflow/utils/validation.py): characters `[/\w.\- ]` only, and the name must be
 * its own `posixpath.normpath` (`path_not_unique`): no leading or trailing `/`, no empty (`//`), `.`
 * or `..` segments, not empty. Anything else is rewritten so that the server accepts it.
 */
export function sanitizeKey(key: string): string {
  const out = key
    .replace(/[^\w.\- /]/g, '_')
    .split('/')
    .filter((part) => part !== '')
    .map((part) => (part === '..' || part === '.' ? '_' : part))
    .join('/');
  return out || '_';
}

/** True when MLflow would reject `key` as a metric, param or tag name (same rule as the server). */
export function isInvalidKey(key: string): boolean {
  return !/^[/\w.\- ]*$/.test(key) || key === '' || key.split('/').some((part) => part === '' || part === '.' || part === '..');
}

/**
 * Shortens `text` to at most `max` characters, ending with `~<hash>` of the full text so that two
 * different long values never shorten to the same string and one value always shortens the same way.
 */
export function shortenStable(text: string, max: number): string {
  if (text.length <= max) return text;
  const suffix = '~' + sha256(text).slice(0, 12);
  return text.slice(0, max - suffix.length) + suffix;
}

export interface FittedEntry {
  key: string;
  value: string;
  /** What was shortened, for a warning. */
  shortened?: string;
}

export function fitParam(key: string, value: string): FittedEntry {
  return fitEntry(key, value, Limits.paramValueLength);
}

export function fitTag(key: string, value: string): FittedEntry {
  return fitEntry(key, value, Limits.tagValueLength);
}

function fitEntry(rawKey: string, rawValue: string, maxValue: number): FittedEntry {
  const key = shortenStable(sanitizeKey(rawKey), Limits.keyLength);
  const value = shortenStable(rawValue, maxValue);
  const notes: string[] = [];
  if (key !== rawKey) notes.push(`key "${rawKey.slice(0, 80)}" -> "${key.slice(0, 80)}"`);
  if (value !== rawValue) notes.push(`value of ${key.slice(0, 80)} shortened from ${rawValue.length} to ${value.length} chars`);
  return notes.length ? { key, value, shortened: notes.join('; ') } : { key, value };
}

/** Metric keys follow the same rules; a metric key is never shortened silently either. */
export function fitMetricKey(key: string): string {
  return shortenStable(sanitizeKey(key), Limits.keyLength);
}

/**
 * Flattens nested params to dotted keys: `{ clahe: { clip: 2 } }` -> `{ 'clahe.clip': '2' }`.
 * Arrays of scalars stay one value (JSON); arrays of objects are indexed (`transforms.0.name`).
 */
export function flattenParams(value: unknown, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (v: unknown, path: string) => {
    if (v === undefined) return;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const entries = Object.entries(v as Record<string, unknown>);
      // An empty nested object is a value (`crop: {}`); empty top-level params are no param at all.
      if (entries.length === 0 && path && path !== prefix) out[path] = '{}';
      for (const [k, inner] of entries) walk(inner, path ? `${path}.${k}` : k);
      return;
    }
    if (Array.isArray(v) && v.some((x) => x !== null && typeof x === 'object')) {
      v.forEach((inner, i) => walk(inner, `${path}.${i}`));
      return;
    }
    out[path || 'value'] = typeof v === 'string' ? v : JSON.stringify(v);
  };
  walk(value, prefix);
  return out;
}

/** Splits a list into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
