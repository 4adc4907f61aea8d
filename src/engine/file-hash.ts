import { createReadStream, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import PQueue from 'p-queue';
import type { Store } from '../store/store.ts';
import { Collections } from '../store/store.ts';
import { fingerprint, sha256 } from '../util/hash.ts';
import { listFiles } from '../util/glob.ts';

type Entry = [size: number, mtimeMs: number, hash: string];

/**
 * Content hashes of files and folders outside the store, memoised by (path, size, mtime) in the
 * store so that a no-op rerun over many files only stats them.
 */
export class ExternalHasher {
  private readonly pending = new Map<string, Promise<string>>();
  private readonly counts = new Map<string, number>();
  /** `remember: false` (plan, status) reads the memo but writes nothing. */
  constructor(private readonly store: Store, private readonly options: { remember?: boolean } = {}) {}

  /** How many files a hashed path held (1 for a file), once `hash` has finished for it. */
  fileCount(path: string, glob?: string): number | undefined {
    return this.counts.get(`${path}\0${glob ?? ''}`);
  }

  /** The content digest of a file, or of a folder's files (names + contents), or `missing`. */
  hash(path: string, glob?: string): Promise<string> {
    const id = `${path}\0${glob ?? ''}`;
    let p = this.pending.get(id);
    if (!p) this.pending.set(id, (p = this.compute(path, glob)));
    return p;
  }

  private async compute(path: string, glob?: string): Promise<string> {
    let info;
    try {
      info = await stat(path);
    } catch {
      return 'missing';
    }
    const memoId = sha256(`${info.isDirectory() ? 'dir' : 'file'}\0${path}\0${glob ?? ''}`);
    const memo = (await this.store.getDoc<{ entries: Record<string, Entry> }>(Collections.fileHashes, memoId))?.entries ?? {};
    const entries: Record<string, Entry> = {};
    let changed = false;
    const files = info.isDirectory() ? await listFiles(path, glob) : [''];
    this.counts.set(`${path}\0${glob ?? ''}`, files.length);
    // Sync stats are several times faster than async ones for many small calls; only changed files are read.
    const stale: string[] = [];
    for (const rel of files) {
      const s = rel ? statSync(join(path, rel)) : info;
      const old = memo[rel];
      if (old && old[0] === s.size && old[1] === s.mtimeMs) entries[rel] = old;
      else {
        entries[rel] = [s.size, s.mtimeMs, ''];
        stale.push(rel);
      }
    }
    const queue = new PQueue({ concurrency: 16 });
    for (const rel of stale) void queue.add(async () => void (entries[rel][2] = await hashFile(rel ? join(path, rel) : path)));
    await queue.onIdle();
    if (stale.length) changed = true;
    if ((changed || Object.keys(memo).length !== files.length) && this.options.remember !== false) await this.store.putDoc(Collections.fileHashes, memoId, { path, glob, entries });
    if (!info.isDirectory()) return entries[''][2];
    return fingerprint(files.map((rel) => [rel, entries[rel][2]]));
  }
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
