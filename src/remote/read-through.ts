import type { Store } from '../store/store.ts';
import { transfer } from './transfer.ts';

/** What a read-through fetched for one stage output. */
export interface Pulled {
  from: string;
  blobs: number;
  bytes: number;
}

/**
 * `pipeline run --remote`: when a stage output is not in the local store, fetch it from the remote
 * (artifact, blobs, per-item results, then the cache entry) so that a colleague's result is reused
 * instead of recomputed. Undefined when the remote does not have it either.
 */
export function readThroughFrom(remote: Store, local: Store, display: string): (key: string) => Promise<Pulled | undefined> {
  return async (key) => {
    const report = await transfer({ from: remote, to: local, keys: [key] });
    return report.copied ? { from: display, blobs: report.blobs, bytes: report.bytes } : undefined;
  };
}
