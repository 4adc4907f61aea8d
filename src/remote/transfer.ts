import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import PQueue from 'p-queue';
import type { Artifact } from '../engine/artifact.ts';
import type { CacheEntry } from '../engine/cache-key.ts';
import { Collections, type Store } from '../store/store.ts';
import { sha256 } from '../util/hash.ts';

export interface TransferProgress {
  /** Stage outputs (cache entries) to copy, and done. */
  outputs: { done: number; total: number };
  blobs: { done: number; total: number };
  bytes: { done: number; total: number };
}

export interface TransferOptions {
  from: Store;
  to: Store;
  /** Cache keys of the stage outputs to copy (with their artifact, blobs and per-item results). */
  keys: readonly string[];
  onProgress?(p: TransferProgress): void;
  signal?: AbortSignal;
  /** Blobs copied at once (default 8). */
  concurrency?: number;
}

export interface TransferReport {
  /** Outputs copied now. */
  copied: number;
  /** Outputs the destination had already (complete). */
  present: number;
  /** Keys the source has no output for. */
  missing: string[];
  /** Keys the destination maps to another output (kept: first writer wins, as for the cache). */
  conflicts: string[];
  blobs: number;
  bytes: number;
  /** Documents written (artifact manifests, per-item results, cache entries). */
  docs: number;
}

/** Blobs at or above this size are streamed through a temp file instead of held in memory. */
const STREAM_BYTES = 16 * 1024 * 1024;
const HEX64 = /[0-9a-f]{64}/g;

interface Closure {
  key: string;
  entry: CacheEntry;
  artifact: Artifact;
  itemKeys: string[];
  blobs: Set<string>;
}

/**
 * Copies stage outputs between two stores (push: local -> remote; pull: remote -> local), only what
 * the destination lacks. The store's commit rule holds across stores: every blob first (verified
 * against its digest), then the per-item results and artifact manifests that name them, then last the
 * cache entries. An interrupted transfer leaves blobs only, which no record claims; the next one
 * skips the blobs that arrived and completes the rest.
 */
export async function transfer(opts: TransferOptions): Promise<TransferReport> {
  const { from, to } = opts;
  const report: TransferReport = { copied: 0, present: 0, missing: [], conflicts: [], blobs: 0, bytes: 0, docs: 0 };
  const todo: Closure[] = [];
  for (const key of [...new Set(opts.keys)]) {
    const entry = await from.getDoc<CacheEntry>(Collections.cache, key);
    if (!entry) {
      report.missing.push(key);
      continue;
    }
    const there = await to.getDoc<CacheEntry>(Collections.cache, key);
    if (there) {
      // A cache entry is committed last, so its output is complete wherever it exists.
      if (there.artifact === entry.artifact) report.present++;
      else report.conflicts.push(key);
      continue;
    }
    const closure = await closureOf(from, key, entry);
    if (!closure) report.missing.push(key);
    else todo.push(closure);
  }
  const wanted = new Set(todo.flatMap((c) => [...c.blobs]));
  const blobs: Array<{ digest: string; size: number }> = [];
  for (const digest of wanted) if (!(await to.hasBlob(digest))) blobs.push({ digest, size: (await from.blobSize(digest)) ?? 0 });
  const progress: TransferProgress = { outputs: { done: 0, total: todo.length }, blobs: { done: 0, total: blobs.length }, bytes: { done: 0, total: blobs.reduce((n, b) => n + b.size, 0) } };
  opts.onProgress?.(progress);

  const queue = new PQueue({ concurrency: opts.concurrency ?? 8 });
  let failure: unknown;
  for (const blob of blobs) {
    void queue.add(async () => {
      if (failure || opts.signal?.aborted) return;
      try {
        await copyBlob(from, to, blob.digest, blob.size);
        progress.blobs.done++;
        progress.bytes.done += blob.size;
        opts.onProgress?.(progress);
      } catch (err) {
        failure ??= err;
      }
    });
  }
  await queue.onIdle();
  if (failure) throw failure;
  if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('cancelled');
  report.blobs = progress.blobs.done;
  report.bytes = progress.bytes.done;

  for (const c of todo) {
    for (const itemKey of c.itemKeys) {
      if (await to.getDoc(Collections.items, itemKey)) continue;
      const item = await from.getDoc(Collections.items, itemKey);
      if (item === undefined) continue;
      await to.putDoc(Collections.items, itemKey, item);
      report.docs++;
    }
    if (!(await to.getDoc(Collections.artifacts, c.artifact.digest))) {
      await to.putDoc(Collections.artifacts, c.artifact.digest, c.artifact);
      report.docs++;
    }
    await to.putDoc(Collections.cache, c.key, c.entry);
    report.docs++;
    report.copied++;
    progress.outputs.done++;
    opts.onProgress?.(progress);
  }
  return report;
}

/**
 * Everything a stage output needs: its artifact manifest, the blobs it names (rows, files), the blobs
 * its rows name (images, DICOMs), its per-item results and their blobs. Digests found in rows and item
 * results count only if they are blobs of the source (a pseudonymised id is also 64 hex digits).
 */
async function closureOf(store: Store, key: string, entry: CacheEntry): Promise<Closure | undefined> {
  const artifact = await store.getDoc<Artifact>(Collections.artifacts, entry.artifact);
  if (!artifact) return undefined;
  const blobs = new Set<string>();
  const candidates = new Set<string>();
  for (const digest of [artifact.rows, ...Object.values(artifact.files)]) if (digest) blobs.add(digest);
  if (artifact.rows) for (const m of (await store.getBlob(artifact.rows)).toString('utf8').matchAll(HEX64)) candidates.add(m[0]);
  let itemKeys: string[] = [];
  if (entry.items && (await store.hasBlob(entry.items))) {
    blobs.add(entry.items);
    itemKeys = (await store.getBlob(entry.items)).toString('utf8').split('\n').filter(Boolean);
    for (const itemKey of itemKeys) for (const m of JSON.stringify((await store.getDoc(Collections.items, itemKey)) ?? null).matchAll(HEX64)) candidates.add(m[0]);
  }
  for (const digest of candidates) if (!blobs.has(digest) && (await store.hasBlob(digest))) blobs.add(digest);
  for (const digest of blobs) if (!(await store.hasBlob(digest))) return undefined;
  return { key, entry, artifact, itemKeys, blobs };
}

/** Copies one blob, checking on the way that its bytes hash to its digest. */
async function copyBlob(from: Store, to: Store, digest: string, size: number): Promise<void> {
  const corrupt = (got: string) => new Error(`blob ${digest} in ${from.location} is corrupt: its content hashes to ${got}; not copied`);
  if (size < STREAM_BYTES) {
    const bytes = await from.getBlob(digest);
    const got = sha256(bytes);
    if (got !== digest) throw corrupt(got);
    await to.putBlob(bytes);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-transfer-'));
  try {
    const file = join(dir, 'blob');
    const hash = createHash('sha256');
    await pipeline(
      from.blobStream(digest),
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      }),
      createWriteStream(file),
    );
    const got = hash.digest('hex');
    if (got !== digest) throw corrupt(got);
    const stored = await to.putBlobFromFile(file);
    if (stored !== digest) throw new Error(`blob ${digest} changed while being copied (${stored}); not copied`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
