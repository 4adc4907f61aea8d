import { fingerprint } from '../util/hash.ts';

/** Everything a stage instance's output depends on. Its fingerprint is the cache key. */
export interface KeyParts {
  uses: string;
  version: number | string;
  params: unknown;
  vars: Record<string, unknown>;
  inputs: Array<{ name: string; artifact: string }>;
  /** Content digest of each external path, by the param that named it. */
  external: Record<string, string>;
  /** Source hash of a user's stage module. */
  code?: string;
  /** Keyed hashes of environment values the stage depends on (StageType.environmentKey). */
  environment?: Record<string, string>;
}

export function cacheKey(parts: KeyParts): string {
  return fingerprint(parts);
}

/** A committed stage output: `cache/<key>`. */
export interface CacheEntry {
  artifact: string;
  uses: string;
  version: number | string;
  /** Blob listing the item-cache keys the run used, one per line. */
  items?: string;
  /** The warnings the stage logged while making the artifact (e.g. skipped files): replayed on a cache hit. */
  warnings?: { total: number; first: string[] };
  time: number;
}

/** The last key computed for an instance of an experiment: what `plan` explains changes against. */
export interface LatestEntry {
  key: string;
  parts: KeyParts;
  artifact: string;
  /** When this entry last changed (a cached rerun of the same output does not rewrite it). */
  time: number;
}

export function latestId(experiment: string, instance: string): string {
  return `${experiment}/${instance}`;
}

/** Why an instance's key differs from its last one, in the user's terms. */
export function explainChange(parts: KeyParts, previous: KeyParts | undefined, inputInstances: readonly string[]): string[] {
  if (!previous) return ['first run'];
  const reasons: string[] = [];
  if (previous.uses !== parts.uses) reasons.push(`stage type changed ${previous.uses} -> ${parts.uses}`);
  else if (String(previous.version) !== String(parts.version)) reasons.push(`stage version changed ${previous.version} -> ${parts.version}`);
  if (previous.code !== parts.code) reasons.push('stage module source changed');
  for (const d of diffValues(previous.params, parts.params, 'with')) reasons.push(`param ${d}`);
  for (const d of diffValues(previous.vars, parts.vars, 'foreach')) reasons.push(d);
  const prevInputs = new Map(previous.inputs.map((i, n) => [`${i.name}#${n}`, i.artifact]));
  parts.inputs.forEach((input, n) => {
    const before = prevInputs.get(`${input.name}#${n}`);
    if (before !== input.artifact) reasons.push(`input ${inputInstances[n] ?? input.name} changed`);
  });
  if (previous.inputs.length !== parts.inputs.length) reasons.push(`number of inputs changed ${previous.inputs.length} -> ${parts.inputs.length}`);
  for (const [param, hash] of Object.entries(parts.external)) {
    if (previous.external[param] !== hash) reasons.push(`file content of with.${param} changed`);
  }
  for (const name of new Set([...Object.keys(parts.environment ?? {}), ...Object.keys(previous.environment ?? {})])) {
    if (parts.environment?.[name] !== previous.environment?.[name]) reasons.push(`${name} changed`);
  }
  return reasons.length ? reasons : ['cache entry missing'];
}

/** Flattened differences between two JSON values: `with.clahe.clip changed 2 -> 3`. */
export function diffValues(a: unknown, b: unknown, prefix: string): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObj = (v: unknown) => v && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
    return keys.flatMap((k) => diffValues((a as any)[k], (b as any)[k], `${prefix}.${k}`));
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) return a.flatMap((v, i) => diffValues(v, b[i], `${prefix}[${i}]`));
  const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
  return [`${prefix} changed ${show(a)} -> ${show(b)}`];
}
