import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Store } from './store.ts';
import { DIGEST_RE } from '../util/hash.ts';

/**
 * Store backend on the local filesystem: `<root>/blobs/ab/<digest>` and
 * `<root>/docs/<collection>/<id>.json`. Every write goes to `<root>/tmp`, is fsynced, then renamed
 * into place, so a killed process never leaves a partial blob or document where a reader looks.
 */
export class FsStore implements Store {
  readonly location: string;
  readonly reopenLocation: string;
  private readonly tmpDir: string;
  private readonly durable: boolean;

  private readonly readOnly: boolean;

  constructor(readonly root: string, opts: { durable?: boolean; readOnly?: boolean } = {}) {
    this.location = root;
    this.reopenLocation = root;
    this.tmpDir = join(root, 'tmp');
    // fsync protects against power loss; a killed process is safe without it thanks to rename.
    this.durable = opts.durable ?? process.env.PIPELINE_FSYNC !== '0';
    this.readOnly = opts.readOnly ?? false;
  }

  /** Opens (and creates) the store at `root`; `readOnly` creates nothing and refuses writes. */
  static async open(root: string, opts?: { durable?: boolean; readOnly?: boolean }): Promise<FsStore> {
    const store = new FsStore(root, opts);
    if (store.readOnly) return store;
    await mkdir(store.tmpDir, { recursive: true });
    await mkdir(join(root, 'blobs'), { recursive: true });
    await mkdir(join(root, 'docs'), { recursive: true });
    return store;
  }

  private writable(): void {
    if (this.readOnly) throw new Error(`the store at ${this.location} is open read-only`);
  }

  private blobPath(digest: string): string {
    if (!DIGEST_RE.test(digest)) throw new Error(`not a blob digest: ${JSON.stringify(digest)}`);
    return join(this.root, 'blobs', digest.slice(0, 2), digest);
  }

  private docPath(collection: string, id: string): string {
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(collection)) throw new Error(`bad collection name: ${collection}`);
    const file = encodeDocId(id) + '.json';
    return DIGEST_RE.test(id) ? join(this.root, 'docs', collection, id.slice(0, 2), file) : join(this.root, 'docs', collection, file);
  }

  private tmpPath(): string {
    return join(this.tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  /** Writes bytes to a temp file, syncs it, and renames it to `dest`. */
  private async atomicWrite(dest: string, data: Uint8Array | string): Promise<void> {
    this.writable();
    const tmp = this.tmpPath();
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      if (this.durable) await fh.datasync();
    } finally {
      await fh.close();
    }
    await this.moveIntoPlace(tmp, dest);
  }

  private async moveIntoPlace(tmp: string, dest: string): Promise<void> {
    try {
      await rename(tmp, dest);
    } catch (err: any) {
      if (err.code !== 'ENOENT') throw err;
      await mkdir(join(dest, '..'), { recursive: true });
      await rename(tmp, dest);
    }
  }

  async putBlob(data: Uint8Array | string): Promise<string> {
    const digest = createHash('sha256').update(data).digest('hex');
    const dest = this.blobPath(digest);
    if (await exists(dest)) return digest;
    await this.atomicWrite(dest, data);
    return digest;
  }

  async putBlobFromFile(path: string): Promise<string> {
    this.writable();
    const tmp = this.tmpPath();
    const hash = createHash('sha256');
    await pipeline(
      createReadStream(path),
      async function* (source) {
        for await (const chunk of source) {
          hash.update(chunk);
          yield chunk;
        }
      },
      createWriteStream(tmp),
    );
    if (this.durable) {
      const fh = await open(tmp, 'r+');
      await fh.datasync().finally(() => fh.close());
    }
    const digest = hash.digest('hex');
    const dest = this.blobPath(digest);
    if (await exists(dest)) await rm(tmp, { force: true });
    else await this.moveIntoPlace(tmp, dest);
    return digest;
  }

  async getBlob(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (err: any) {
      if (err.code === 'ENOENT') throw new Error(`blob ${digest} is not in the store at ${this.location}`);
      throw err;
    }
  }

  blobStream(digest: string): Readable {
    return createReadStream(this.blobPath(digest));
  }

  async hasBlob(digest: string): Promise<boolean> {
    return exists(this.blobPath(digest));
  }

  /** Synchronous checks: hundreds of blobs (a cache hit's files) in a millisecond or two, instead of a promise each. */
  async missingBlobs(digests: readonly string[]): Promise<string[]> {
    return digests.filter((d) => !existsSync(this.blobPath(d)));
  }

  async blobSize(digest: string): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch {
      return undefined;
    }
  }

  async deleteBlob(digest: string): Promise<void> {
    this.writable();
    await rm(this.blobPath(digest), { force: true });
  }

  async *listBlobs(): AsyncIterable<string> {
    for (const shard of await listDir(join(this.root, 'blobs'))) {
      for (const name of await listDir(join(this.root, 'blobs', shard))) if (DIGEST_RE.test(name)) yield name;
    }
  }

  async getDoc<T>(collection: string, id: string): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.docPath(collection, id), 'utf8');
    } catch (err: any) {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    }
    return JSON.parse(text) as T;
  }

  async putDoc(collection: string, id: string, doc: unknown): Promise<void> {
    await this.atomicWrite(this.docPath(collection, id), JSON.stringify(doc));
  }

  async deleteDoc(collection: string, id: string): Promise<void> {
    this.writable();
    await rm(this.docPath(collection, id), { force: true });
  }

  async *listDocIds(collection: string): AsyncIterable<string> {
    const dir = join(this.root, 'docs', collection);
    for (const name of await listDir(dir)) {
      if (name.endsWith('.json')) yield decodeDocId(name.slice(0, -5));
      else if (/^[0-9a-f]{2}$/.test(name)) {
        for (const inner of await listDir(join(dir, name))) if (inner.endsWith('.json')) yield decodeDocId(inner.slice(0, -5));
      }
    }
  }

  async close(): Promise<void> {}
}

function encodeDocId(id: string): string {
  if (id.length === 0) throw new Error('empty document id');
  return encodeURIComponent(id)
    .replace(/[!'()*~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/^\./, '%2E');
}

function decodeDocId(name: string): string {
  return decodeURIComponent(name);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err: any) {
    if (err.code === 'ENOENT') return [];
    throw err;
  }
}
