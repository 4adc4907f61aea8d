import type { PathKey } from './yaml-source.ts';

/** The value at `path` inside a parsed document (object keys and list indexes), or undefined. */
export function valueAt(value: unknown, path: readonly PathKey[]): unknown {
  let cur = value;
  for (const key of path) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[String(key)] : undefined;
  return cur;
}
