import type { Readable } from 'node:stream';

/**
 * The storage contract every backend implements (fs under `.pipeline/`, MongoDB GridFS).
 *
 * - Blobs are immutable and addressed by the hex sha256 of their bytes.
 * - Documents are small JSON values, keyed by (collection, id). `putDoc` is atomic: a reader sees the
 *   old document or the new one, never a torn one, and a crash mid-write leaves the old one.
 * - Writers commit blobs before the documents that reference them, so a document never points at a
 *   missing blob (the engine relies on this for crash safety).
 */
export interface Store {
  /** Human-readable location, e.g. `/repo/.pipeline` or `mongodb://host/db` (credentials removed). */
  readonly location: string;
  /**
   * What `openStore` needs to open this same store again from another thread (it may hold credentials,
   * so never log it). Absent: the store cannot be shared, and stages run in the main thread.
   */
  readonly reopenLocation?: string;

  putBlob(data: Uint8Array | string): Promise<string>;
  /** Streams a file into the store without holding it in memory; returns its digest. */
  putBlobFromFile(path: string): Promise<string>;
  getBlob(digest: string): Promise<Buffer>;
  blobStream(digest: string): Readable;
  hasBlob(digest: string): Promise<boolean>;
  /** Of `digests`, those the store does not have (one call for many; default: hasBlob each). */
  missingBlobs?(digests: readonly string[]): Promise<string[]>;
  blobSize(digest: string): Promise<number | undefined>;
  deleteBlob(digest: string): Promise<void>;
  listBlobs(): AsyncIterable<string>;

  getDoc<T = unknown>(collection: string, id: string): Promise<T | undefined>;
  putDoc(collection: string, id: string, doc: unknown): Promise<void>;
  deleteDoc(collection: string, id: string): Promise<void>;
  listDocIds(collection: string): AsyncIterable<string>;

  close(): Promise<void>;
}

/** Collections the engine uses. Stages and trackers may add their own (prefix them with their name). */
export const Collections = {
  artifacts: 'artifacts',
  cache: 'cache',
  latest: 'latest',
  items: 'items',
  runs: 'runs',
  fileHashes: 'file-hashes',
} as const;
