import type { Store } from '../store/store.ts';
import { Collections } from '../store/store.ts';
import type { Artifact } from './artifact.ts';
import type { CacheEntry, LatestEntry } from './cache-key.ts';
import { LOCAL_RUNS } from '../tracking/local/local-tracker.ts';
import { TRACKING_BUFFER } from '../tracking/mlflow/buffer.ts';
import { CHECKPOINT_COLLECTION } from '../ml/training/checkpoint.ts';

export interface GcReport {
  artifacts: number;
  cacheEntries: number;
  items: number;
  checkpoints: number;
  blobs: number;
  bytes: number;
}

const HEX64 = /[0-9a-f]{64}/g;

/** Collections whose documents reference blobs that must outlive the artifacts they came from. */
export const BLOB_ROOT_COLLECTIONS = [LOCAL_RUNS, TRACKING_BUFFER];

/** Resume state of unfinished work (training checkpoints): gc drops it with its blobs. */
export const RESUME_STATE_COLLECTIONS = [CHECKPOINT_COLLECTION];

/**
 * Frees what no experiment's latest outputs reference. Roots: the artifact of every instance's latest
 * entry. Kept: those artifacts, their cache entries, the item-cache entries those runs used, and the
 * blobs all of these name (manifest files, rows, and every digest inside rows and item results).
 * Training checkpoints (resume state of killed trainings) are dropped. Run records are history and
 * are never removed.
 */
export async function collectGarbage(store: Store, opts: { dryRun?: boolean } = {}): Promise<GcReport> {
  const report: GcReport = { artifacts: 0, cacheEntries: 0, items: 0, checkpoints: 0, blobs: 0, bytes: 0 };
  const liveArtifacts = new Set<string>();
  for await (const id of store.listDocIds(Collections.latest)) {
    const entry = await store.getDoc<LatestEntry>(Collections.latest, id);
    if (entry) liveArtifacts.add(entry.artifact);
  }
  const liveBlobs = new Set<string>();
  const addDigests = (text: string) => {
    for (const m of text.matchAll(HEX64)) liveBlobs.add(m[0]);
  };
  // Tracking records keep their report files as blobs: those stay as long as the records do.
  for (const collection of BLOB_ROOT_COLLECTIONS) {
    for await (const id of store.listDocIds(collection)) addDigests(JSON.stringify((await store.getDoc(collection, id)) ?? null));
  }
  const remove = async (what: 'artifacts' | 'cacheEntries' | 'items' | 'checkpoints', collection: string, id: string) => {
    report[what]++;
    if (!opts.dryRun) await store.deleteDoc(collection, id);
  };
  for await (const digest of store.listDocIds(Collections.artifacts)) {
    const artifact = await store.getDoc<Artifact>(Collections.artifacts, digest);
    if (!artifact) continue;
    if (!liveArtifacts.has(digest)) {
      await remove('artifacts', Collections.artifacts, digest);
      continue;
    }
    addDigests(JSON.stringify(artifact));
    if (artifact.rows && (await store.hasBlob(artifact.rows))) addDigests((await store.getBlob(artifact.rows)).toString('utf8'));
  }
  for (const collection of RESUME_STATE_COLLECTIONS) {
    for await (const id of store.listDocIds(collection)) await remove('checkpoints', collection, id);
  }
  const liveItems = new Set<string>();
  for await (const key of store.listDocIds(Collections.cache)) {
    const entry = await store.getDoc<CacheEntry>(Collections.cache, key);
    if (!entry || !liveArtifacts.has(entry.artifact)) {
      await remove('cacheEntries', Collections.cache, key);
      continue;
    }
    if (entry.items && (await store.hasBlob(entry.items))) {
      liveBlobs.add(entry.items);
      for (const itemKey of (await store.getBlob(entry.items)).toString('utf8').split('\n')) liveItems.add(itemKey);
    }
  }
  for await (const key of store.listDocIds(Collections.items)) {
    if (!liveItems.has(key)) {
      await remove('items', Collections.items, key);
      continue;
    }
    addDigests(JSON.stringify((await store.getDoc<unknown>(Collections.items, key)) ?? null));
  }
  for await (const digest of store.listBlobs()) {
    if (liveBlobs.has(digest)) continue;
    report.blobs++;
    report.bytes += (await store.blobSize(digest)) ?? 0;
    if (!opts.dryRun) await store.deleteBlob(digest);
  }
  return report;
}
