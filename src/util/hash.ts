import { createHash } from 'node:crypto';

/** Hex sha256 of bytes or a string. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JSON with object keys sorted at every depth, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** sha256 of the canonical JSON of a value: the fingerprint function used for cache keys. */
export function fingerprint(value: unknown): string {
  return sha256(canonicalJson(value));
}

/** A 64-hex sha256 digest, as used for blobs and artifacts. */
export const DIGEST_RE = /^[0-9a-f]{64}$/;
