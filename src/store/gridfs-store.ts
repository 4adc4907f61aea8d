import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GridFSBucket, MongoClient, type GridFSBucketReadStream, MongoServerError, type Collection, type Db, type ObjectId } from 'mongodb';
import type { Store } from './store.ts';
import { DIGEST_RE } from '../util/hash.ts';
import { errorText } from '../util/error-text.ts';

/** A committed blob: the GridFS file holding its bytes. Only blobs listed here exist for readers. */
interface BlobEntry {
  _id: string;
  fileId: ObjectId;
  length: number;
  committedAt: Date;
}

interface DocEntry {
  _id: string;
  /** The document as JSON text, so any keys (`$x`, `a.b`) survive. */
  json?: string;
  /** A document too large for MongoDB (16 MiB): its JSON in a file of the `large_docs` bucket. */
  file?: ObjectId;
}

const BUCKET = 'blobs';
// Not `docs`: its `docs.files` and `docs.chunks` would be the collections `files` and `chunks` of DOC_PREFIX.
const DOC_BUCKET = 'large_docs';
const DOC_PREFIX = 'docs.';
/** Larger JSON goes to a GridFS file: a MongoDB document holds at most 16 MiB (and the entry adds a little). */
export const INLINE_DOC_LIMIT = 8 * 1024 * 1024;

/**
 * Store backend on MongoDB: blob bytes in a GridFS bucket, committed by a single insert into
 * `blob_index` (`_id` = digest) after the upload finished, so a crashed or concurrent upload is never
 * visible as complete; documents as `{ _id, json }` in `docs.<collection>` (upserts are atomic per document).
 */
export class GridFsStore implements Store {
  readonly location: string;
  reopenLocation?: string;
  private readonly bucket: GridFSBucket;
  private readonly docFiles: GridFSBucket;
  private readonly index: Collection<BlobEntry>;

  private constructor(private readonly client: MongoClient, private readonly db: Db, location: string) {
    this.location = location;
    this.bucket = new GridFSBucket(db, { bucketName: BUCKET });
    this.docFiles = new GridFSBucket(db, { bucketName: DOC_BUCKET });
    this.index = db.collection<BlobEntry>('blob_index');
  }

  /** Connects to `mongodb://host[:port]/[db]` (database `pipeline` when the URL names none) and creates indexes (unless read-only). */
  static async open(url: string, options: { client?: MongoClient; readOnly?: boolean } = {}): Promise<GridFsStore> {
    // 10 s to find the server, unless the URL says otherwise (?serverSelectionTimeoutMS=...).
    const client = options.client ?? new MongoClient(url, /[?&]serverSelectionTimeoutMS=/i.test(url) ? {} : { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
    const db = client.db(new URL(url.replace(/^mongodb\+srv:/, 'mongodb:')).pathname.slice(1) || 'pipeline');
    const store = new GridFsStore(client, db, redact(url));
    if (!options.client) store.reopenLocation = url;
    if (!options.readOnly) await store.ensureIndexes();
    return store;
  }

  private async ensureIndexes(): Promise<void> {
    // GridFS's own indexes (the driver creates them on first upload too) plus one for orphan clean-up.
    await this.db.collection(`${BUCKET}.files`).createIndex({ filename: 1, uploadDate: 1 });
    await this.db.collection(`${BUCKET}.chunks`).createIndex({ files_id: 1, n: 1 }, { unique: true });
    await this.index.createIndex({ fileId: 1 });
  }

  private checkDigest(digest: string): void {
    if (!DIGEST_RE.test(digest)) throw new Error(`not a blob digest: ${JSON.stringify(digest)}`);
  }

  async putBlob(data: Uint8Array | string): Promise<string> {
    const digest = createHash('sha256').update(data).digest('hex');
    if (await this.hasBlob(digest)) return digest;
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const upload = this.bucket.openUploadStream(pendingName(digest));
    await pipeline(bufferStream(bytes), upload);
    await this.commit(digest, upload.id, bytes.length);
    return digest;
  }

  async putBlobFromFile(path: string): Promise<string> {
    const hash = createHash('sha256');
    let length = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        length += chunk.length;
        done(null, chunk);
      },
    });
    const upload = this.bucket.openUploadStream(pendingName('stream'));
    await pipeline(createReadStream(path), tap, upload);
    const digest = hash.digest('hex');
    if (await this.hasBlob(digest)) {
      await this.bucket.delete(upload.id);
      return digest;
    }
    await this.commit(digest, upload.id, length);
    return digest;
  }

  /** Makes an uploaded file the blob `digest`; a concurrent writer that won keeps its copy, ours is dropped. */
  private async commit(digest: string, fileId: ObjectId, length: number): Promise<void> {
    try {
      await this.index.insertOne({ _id: digest, fileId, length, committedAt: new Date() });
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
      await this.bucket.delete(fileId);
    }
  }

  async getBlob(digest: string): Promise<Buffer> {
    const entry = await this.entry(digest);
    const data = await readWhole(this.bucket.openDownloadStream(entry.fileId));
    if (!data) throw new Error(`blob ${digest} is not in the store (${this.location}): deleted while it was read`);
    return data;
  }

  blobStream(digest: string): Readable {
    const out = new PassThrough();
    this.entry(digest).then(
      (entry) => pipeline(this.bucket.openDownloadStream(entry.fileId), lengthCheck(entry.length, () => `blob ${digest} is not in the store (${this.location}): deleted while it was read`), out).catch((err) => out.destroy(err)),
      (err) => out.destroy(err),
    );
    return out;
  }

  private async entry(digest: string): Promise<BlobEntry> {
    this.checkDigest(digest);
    const entry = await this.index.findOne({ _id: digest });
    if (!entry) throw new Error(`blob ${digest} is not in the store (${this.location})`);
    return entry;
  }

  async hasBlob(digest: string): Promise<boolean> {
    this.checkDigest(digest);
    return (await this.index.countDocuments({ _id: digest }, { limit: 1 })) > 0;
  }

  async missingBlobs(digests: readonly string[]): Promise<string[]> {
    digests.forEach((d) => this.checkDigest(d));
    const present = new Set<string>();
    for await (const e of this.index.find({ _id: { $in: [...digests] } }, { projection: { _id: 1 } })) present.add(e._id);
    return digests.filter((d) => !present.has(d));
  }

  async blobSize(digest: string): Promise<number | undefined> {
    this.checkDigest(digest);
    return (await this.index.findOne({ _id: digest }))?.length;
  }

  async deleteBlob(digest: string): Promise<void> {
    this.checkDigest(digest);
    const entry = await this.index.findOneAndDelete({ _id: digest });
    if (entry) await this.bucket.delete(entry.fileId).catch(() => undefined);
  }

  async *listBlobs(): AsyncIterable<string> {
    for await (const e of this.index.find({}, { projection: { _id: 1 } })) yield e._id;
  }

  private docs(collection: string): Collection<DocEntry> {
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(collection)) throw new Error(`bad collection name: ${collection}`);
    return this.db.collection<DocEntry>(DOC_PREFIX + collection);
  }

  async getDoc<T = unknown>(collection: string, id: string): Promise<T | undefined> {
    // A large document's file can be replaced (and deleted) between reading its entry and its file:
    // then the entry read again names the new file.
    for (let attempt = 0; ; attempt++) {
      const entry = await this.docs(collection).findOne({ _id: id });
      if (!entry) return undefined;
      if (entry.json !== undefined) return JSON.parse(entry.json) as T;
      try {
        const data = await readWhole(this.docFiles.openDownloadStream(entry.file!));
        if (data) return JSON.parse(data.toString('utf8')) as T;
      } catch (err) {
        if (!/FileNotFound|ChunkIsMissing|no file|not found/i.test(errorText(err))) throw err;
      }
      if (attempt >= 5) throw new Error(`document ${collection}/${id}: its file was replaced while read, ${attempt + 1} times`);
    }
  }

  /**
   * One atomic replacement of the entry. JSON over INLINE_DOC_LIMIT is first written to a file; the
   * replaced entry's file (returned by the same atomic operation) is deleted after.
   */
  async putDoc(collection: string, id: string, doc: unknown): Promise<void> {
    const json = JSON.stringify(doc);
    let entry: Omit<DocEntry, '_id'> = { json };
    if (Buffer.byteLength(json) > INLINE_DOC_LIMIT) {
      const upload = this.docFiles.openUploadStream(`${collection}/${id}`);
      await pipeline(bufferStream(Buffer.from(json)), upload);
      entry = { file: upload.id };
    }
    const before = await this.docs(collection).findOneAndReplace({ _id: id }, entry, { upsert: true, returnDocument: 'before' });
    if (before?.file) await this.docFiles.delete(before.file).catch(() => undefined);
  }

  async deleteDoc(collection: string, id: string): Promise<void> {
    const before = await this.docs(collection).findOneAndDelete({ _id: id });
    if (before?.file) await this.docFiles.delete(before.file).catch(() => undefined);
  }

  async *listDocIds(collection: string): AsyncIterable<string> {
    for await (const e of this.docs(collection).find({}, { projection: { _id: 1 } })) yield e._id;
  }

  /** GridFS files nothing points at (crashed or lost-race uploads of blobs and large documents) older than `olderThanMs`; deletes them. */
  async removeOrphanUploads(olderThanMs = 3_600_000): Promise<number> {
    const cutoff = new Date(Date.now() - olderThanMs);
    let removed = 0;
    for await (const file of this.bucket.find({ uploadDate: { $lt: cutoff } })) {
      if ((await this.index.countDocuments({ fileId: file._id }, { limit: 1 })) === 0) {
        await this.bucket.delete(file._id);
        removed++;
      }
    }
    // Large documents' files: named `<collection>/<id>`, kept while that entry points at them.
    for await (const file of this.docFiles.find({ uploadDate: { $lt: cutoff } })) {
      const slash = file.filename.indexOf('/');
      const entry = await this.docs(file.filename.slice(0, slash)).findOne({ _id: file.filename.slice(slash + 1) });
      if (!entry?.file || !entry.file.equals(file._id)) {
        await this.docFiles.delete(file._id).catch(() => undefined);
        removed++;
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/**
 * A GridFS file's bytes, or undefined when it was deleted while read: the driver ends a download quietly
 * (no error) when the chunks it has not read yet are gone, so the length read is checked against the file's.
 */
async function readWhole(stream: GridFSBucketReadStream): Promise<Buffer | undefined> {
  let length: number | undefined;
  stream.once('file', (file: { length: number }) => (length = file.length));
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const data = Buffer.concat(chunks);
  return data.length === (length ?? 0) ? data : undefined; // no 'file' event: an empty file
}

/** Passes bytes through; fails at the end unless exactly `length` passed (see readWhole). */
function lengthCheck(length: number, message: () => string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      done(seen === length ? null : new Error(message()));
    },
  });
}

function pendingName(what: string): string {
  return `upload/${what}/${randomBytes(6).toString('hex')}`;
}

function bufferStream(bytes: Uint8Array): Readable {
  const s = new PassThrough();
  s.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return s;
}

/** The URL without its password, for logs. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
