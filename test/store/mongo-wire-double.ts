import { createServer, type Server, type Socket } from 'node:net';
import { BSON, Long, ObjectId } from 'mongodb';

/**
 * An in-memory server speaking the subset of the MongoDB wire protocol the official driver uses for
 * GridFS and plain CRUD: OP_QUERY/OP_MSG hello, ping, insert, find, getMore, killCursors, update,
 * delete, findAndModify, aggregate ($match/$skip/$limit/$group), createIndexes (unique honoured),
 * listIndexes, drop, endSessions. Queries: equality, $eq/$gt/$gte/$lt/$lte/$in/$ne, sort, skip, limit.
 *
 * It rejects what a real server (7.0) rejects, with the server's codes and messages:
 * - documents over 16 MiB (maxBsonObjectSize): `object to insert too large` (code 2) on insert,
 *   code 17419 when an update's result is too large, BSONObjectTooLarge (10334) for a command;
 * - an update or replacement that changes `_id` (ImmutableField, 66);
 * - ordered writes stop at the first error (later documents are not written); unordered ones go on;
 * - a $group accumulator the server does not know (15952); one it knows but the double does not
 *   implement fails loudly instead of computing something else;
 * - duplicate keys on `_id` and unique indexes (11000).
 *
 * Concurrency is real, as on a server: commands on one connection run in order, but commands from
 * different connections interleave, at document granularity for multi-document writes (each single
 * document write is atomic, none across documents: there are no transactions). So a store that
 * relies on more atomicity than MongoDB gives can fail against it.
 * A test double, not a database: no transactions, no replication, one process.
 */
export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
/** A command document may exceed a stored document by 16 KiB of command overhead (BSONObjMaxInternalSize). */
const MAX_COMMAND_SIZE = MAX_BSON_OBJECT_SIZE + 16 * 1024;
const MAX_MESSAGE_SIZE = 48_000_000;

/** Every $group accumulator MongoDB 7 knows: others get "unknown group operator". */
const SERVER_ACCUMULATORS = new Set([
  '$accumulator', '$addToSet', '$avg', '$bottom', '$bottomN', '$count', '$first', '$firstN', '$last', '$lastN', '$max', '$maxN',
  '$median', '$mergeObjects', '$min', '$minN', '$percentile', '$push', '$stdDevPop', '$stdDevSamp', '$sum', '$top', '$topN',
]);

class CommandError extends Error {
  constructor(readonly code: number, readonly codeName: string, message: string) {
    super(message);
  }
}

export class MongoWireDouble {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly collections = new Map<string, Doc[]>();
  private readonly unique = new Map<string, string[][]>();
  private readonly cursors = new Map<string, { ns: string; docs: Doc[] }>();
  private nextCursor = 1;
  private random: () => number;
  readonly commands: string[] = [];
  port = 0;

  /** `seed` varies the interleaving of concurrent commands (reproducibly). */
  constructor(options: { seed?: number } = {}) {
    let state = (options.seed ?? 1) >>> 0 || 1;
    this.random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  }

  async start(): Promise<string> {
    this.server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return `mongodb://127.0.0.1:${this.port}/pipeline_test?directConnection=true`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** The raw documents of `db.collection` (for assertions). */
  docs(ns: string): Doc[] {
    return this.collections.get(ns) ?? [];
  }

  /** Gives other connections' commands a chance to run: after a macrotask, sometimes a little later. */
  private yieldToOthers(): Promise<void> {
    const r = this.random();
    return new Promise((resolve) => (r < 0.8 ? setImmediate(resolve) : setTimeout(resolve, Math.floor(r * 5))));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    let buffered = Buffer.alloc(0);
    // One connection's commands run one after the other (as a server thread per connection does).
    let queue: Promise<void> = Promise.resolve();
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= buffered.readInt32LE(0)) {
        const length = buffered.readInt32LE(0);
        const message = buffered.subarray(0, length);
        buffered = buffered.subarray(length);
        queue = queue.then(async () => {
          const reply = await this.handle(message);
          if (reply && !socket.destroyed) socket.write(reply);
        });
      }
    });
    socket.on('error', () => undefined);
  }

  private async handle(msg: Buffer): Promise<Buffer | undefined> {
    const requestId = msg.readInt32LE(4);
    const opCode = msg.readInt32LE(12);
    if (opCode === 2004) {
      // OP_QUERY, used by the driver only for the first hello.
      let p = 20;
      while (msg[p] !== 0) p++;
      const query = BSON.deserialize(msg.subarray(p + 9, p + 9 + msg.readInt32LE(p + 9)));
      return opReply(requestId, await this.run(query, 'admin'));
    }
    if (opCode !== 2013) throw new Error(`mongo double: unsupported opcode ${opCode}`);
    const flags = msg.readUInt32LE(16);
    const end = flags & 1 ? msg.length - 4 : msg.length;
    let p = 20;
    let body: Doc = {};
    let oversized: CommandError | undefined;
    if (msg.length > MAX_MESSAGE_SIZE) oversized = new CommandError(10334, 'BSONObjectTooLarge', `message size ${msg.length} exceeds maxMessageSizeBytes ${MAX_MESSAGE_SIZE}`);
    while (p < end) {
      const kind = msg[p++];
      const size = msg.readInt32LE(p);
      if (kind === 0) {
        if (size > MAX_COMMAND_SIZE) oversized ??= new CommandError(10334, 'BSONObjectTooLarge', `BSONObj size: ${size} (0x${size.toString(16).toUpperCase()}) is invalid. Size must be between 0 and ${MAX_COMMAND_SIZE}(16MB)`);
        body = BSON.deserialize(msg.subarray(p, p + size), { promoteLongs: true });
      } else {
        let q = p + 4;
        while (msg[q] !== 0) q++;
        const name = msg.toString('utf8', p + 4, q);
        const docs: Doc[] = [];
        for (let d = q + 1; d < p + size; d += msg.readInt32LE(d)) docs.push(BSON.deserialize(msg.subarray(d, d + msg.readInt32LE(d))));
        body[name] = docs;
      }
      p += size;
    }
    const reply = oversized ? errorReply(oversized) : await this.run(body, body.$db ?? 'admin');
    return flags & 2 ? undefined : opMsg(requestId, reply);
  }

  private async run(cmd: Doc, db: string): Promise<Doc> {
    const name = Object.keys(cmd)[0];
    const lower = name.toLowerCase();
    this.commands.push(name);
    const ns = `${db}.${cmd[name]}`;
    await this.yieldToOthers();
    try {
      switch (lower) {
        case 'hello':
        case 'ismaster':
          return {
            ok: 1, helloOk: true, ismaster: true, isWritablePrimary: true, maxBsonObjectSize: MAX_BSON_OBJECT_SIZE, maxMessageSizeBytes: MAX_MESSAGE_SIZE,
            maxWriteBatchSize: 100_000, localTime: new Date(), logicalSessionTimeoutMinutes: 30, connectionId: 1, minWireVersion: 0, maxWireVersion: 21, readOnly: false,
          };
        case 'ping':
        case 'endsessions':
          return { ok: 1 };
        case 'buildinfo':
          return { ok: 1, version: '7.0.0-double', versionArray: [7, 0, 0, 0] };
        case 'insert':
          return await this.insert(ns, cmd.documents, cmd.ordered !== false);
        case 'find':
          return this.cursorReply(ns, this.query(ns, cmd.filter ?? {}, cmd.sort, cmd.skip, cmd.limit, cmd.projection), cmd.batchSize, cmd.singleBatch);
        case 'getmore':
          return this.getMore(String(cmd.getMore), cmd.batchSize);
        case 'killcursors':
          for (const id of cmd.cursors) this.cursors.delete(String(id));
          return { ok: 1, cursorsKilled: cmd.cursors };
        case 'update':
          return await this.update(ns, cmd.updates, cmd.ordered !== false);
        case 'delete':
          return await this.remove(ns, cmd.deletes, cmd.ordered !== false);
        case 'findandmodify':
          return this.findAndModify(ns, cmd);
        case 'aggregate':
          return this.aggregate(ns, cmd.pipeline);
        case 'createindexes':
          for (const index of cmd.indexes) if (index.unique) this.uniqueKeys(ns).push(Object.keys(index.key));
          return { ok: 1, createdCollectionAutomatically: false, numIndexesBefore: 1, numIndexesAfter: 1 + cmd.indexes.length };
        case 'listindexes':
          return this.cursorReply(ns, [{ v: 2, key: { _id: 1 }, name: '_id_' }, ...this.uniqueKeys(ns).map((k) => ({ v: 2, key: Object.fromEntries(k.map((f) => [f, 1])), name: k.join('_'), unique: true }))]);
        case 'drop':
          this.collections.delete(ns);
          return { ok: 1 };
        default:
          return { ok: 0, errmsg: `no such command: '${name}'`, code: 59, codeName: 'CommandNotFound' };
      }
    } catch (err) {
      if (err instanceof CommandError) return errorReply(err);
      return { ok: 0, errmsg: (err as Error).message, code: 8000, codeName: 'DoubleUnsupported' };
    }
  }

  private coll(ns: string): Doc[] {
    let c = this.collections.get(ns);
    if (!c) this.collections.set(ns, (c = []));
    return c;
  }

  private uniqueKeys(ns: string): string[][] {
    let u = this.unique.get(ns);
    if (!u) this.unique.set(ns, (u = []));
    return u;
  }

  /** The duplicate-key error a write of `doc` would get, if any (`except`: the document it replaces). */
  private duplicateKey(ns: string, doc: Doc, except?: Doc): Doc | undefined {
    for (const key of [['_id'], ...this.uniqueKeys(ns)]) {
      const other = this.coll(ns).find((o) => o !== except && key.every((f) => equal(o[f], doc[f])));
      if (other) {
        const index = key.length === 1 && key[0] === '_id' ? '_id_' : key.join('_');
        return { code: 11000, errmsg: `E11000 duplicate key error collection: ${ns} index: ${index} dup key: ${JSON.stringify(Object.fromEntries(key.map((f) => [f, String(doc[f])])))}` };
      }
    }
    return undefined;
  }

  /** Multi-document writes: one document at a time, other connections interleaving; ordered ones stop at the first error. */
  private async eachWrite<T>(items: T[], ordered: boolean, write: (item: T, index: number) => Doc | undefined): Promise<Doc[]> {
    const writeErrors: Doc[] = [];
    for (const [index, item] of items.entries()) {
      if (index > 0) await this.yieldToOthers();
      const error = write(item, index);
      if (error) {
        writeErrors.push({ index, ...error });
        if (ordered) break;
      }
    }
    return writeErrors;
  }

  private async insert(ns: string, docs: Doc[], ordered: boolean): Promise<Doc> {
    let n = 0;
    const writeErrors = await this.eachWrite(docs, ordered, (doc) => {
      doc._id ??= new ObjectId();
      const size = BSON.calculateObjectSize(doc);
      if (size > MAX_BSON_OBJECT_SIZE) return { code: 2, errmsg: `object to insert too large. size in bytes: ${size}, max size: ${MAX_BSON_OBJECT_SIZE}` };
      const dup = this.duplicateKey(ns, doc);
      if (dup) return dup;
      this.coll(ns).push(doc);
      n++;
      return undefined;
    });
    return writeErrors.length ? { ok: 1, n, writeErrors } : { ok: 1, n };
  }

  private query(ns: string, filter: Doc, sort?: Doc, skip = 0, limit = 0, projection?: Doc): Doc[] {
    let out = this.coll(ns).filter((d) => matches(d, filter));
    if (sort) {
      const keys = Object.entries(sort);
      out = [...out].sort((a, b) => {
        for (const [k, dir] of keys) {
          const c = compare(a[k], b[k]);
          if (c) return c * (dir as number);
        }
        return 0;
      });
    }
    out = out.slice(skip, limit ? skip + Math.abs(limit) : undefined);
    if (projection && Object.values(projection).some((v) => v === 1)) {
      out = out.map((d) => Object.fromEntries(Object.entries(d).filter(([k]) => k === '_id' || projection[k] === 1)));
    }
    return out;
  }

  private cursorReply(ns: string, docs: Doc[], batchSize?: number, single?: boolean): Doc {
    const first = takeBatch(docs, batchSize || 101);
    let id = 0;
    if (!single && docs.length > first.length) {
      id = this.nextCursor++;
      this.cursors.set(String(id), { ns, docs: docs.slice(first.length) });
    }
    return { ok: 1, cursor: { id: Long.fromNumber(id), ns, firstBatch: first } };
  }

  private getMore(id: string, batchSize?: number): Doc {
    const cursor = this.cursors.get(id);
    if (!cursor) return { ok: 0, errmsg: `cursor id ${id} not found`, code: 43, codeName: 'CursorNotFound' };
    const batch = takeBatch(cursor.docs, batchSize || 1000);
    cursor.docs.splice(0, batch.length);
    if (!cursor.docs.length) this.cursors.delete(id);
    return { ok: 1, cursor: { id: Long.fromNumber(cursor.docs.length ? Number(id) : 0), ns: cursor.ns, nextBatch: batch } };
  }

  /**
   * The document an update `u` makes of `doc` (or, for an upsert, of the query's equalities), or the
   * server's error: `_id` is immutable, and the result must fit in 16 MiB.
   */
  private applyUpdate(doc: Doc | undefined, query: Doc, u: Doc): { next: Doc } | { error: Doc } {
    const isOperator = Object.keys(u).some((k) => k.startsWith('$'));
    const before = doc ?? equalities(query);
    if (doc && isOperator && u.$set && '_id' in u.$set && !equal(u.$set._id, doc._id)) {
      return { error: { code: 66, errmsg: "Performing an update on the path '_id' would modify the immutable field '_id'" } };
    }
    const next = isOperator ? applyOperators({ ...before }, u, !doc) : { _id: before._id, ...u };
    if (next._id === undefined) delete next._id;
    if (before._id !== undefined && !equal(next._id, before._id)) {
      return { error: { code: 66, errmsg: `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${show(next._id)}` } };
    }
    next._id ??= new ObjectId();
    const size = BSON.calculateObjectSize(next);
    if (size > MAX_BSON_OBJECT_SIZE) return { error: { code: 17419, errmsg: `Resulting document after update is larger than ${MAX_BSON_OBJECT_SIZE}` } };
    return { next };
  }

  private async update(ns: string, updates: Doc[], ordered: boolean): Promise<Doc> {
    let n = 0;
    let nModified = 0;
    const upserted: Doc[] = [];
    const writeErrors = await this.eachWrite(updates, ordered, (u, index) => {
      const targets = this.coll(ns).filter((d) => matches(d, u.q));
      const chosen = u.multi ? targets : targets.slice(0, 1);
      if (!chosen.length && u.upsert) {
        const made = this.applyUpdate(undefined, u.q, u.u);
        if ('error' in made) return made.error;
        const dup = this.duplicateKey(ns, made.next);
        if (dup) return dup;
        this.coll(ns).push(made.next);
        upserted.push({ index, _id: made.next._id });
        n++;
        return undefined;
      }
      for (const doc of chosen) {
        const made = this.applyUpdate(doc, u.q, u.u);
        if ('error' in made) return made.error;
        const dup = this.duplicateKey(ns, made.next, doc);
        if (dup) return dup;
        const c = this.coll(ns);
        c[c.indexOf(doc)] = made.next;
        n++;
        nModified++;
      }
      return undefined;
    });
    return { ok: 1, n, nModified, ...(upserted.length ? { upserted } : {}), ...(writeErrors.length ? { writeErrors } : {}) };
  }

  private async remove(ns: string, deletes: Doc[], ordered: boolean): Promise<Doc> {
    let n = 0;
    const writeErrors = await this.eachWrite(deletes, ordered, (d) => {
      const c = this.coll(ns);
      const hits = c.filter((doc) => matches(doc, d.q));
      for (const doc of d.limit === 1 ? hits.slice(0, 1) : hits) {
        c.splice(c.indexOf(doc), 1);
        n++;
      }
      return undefined;
    });
    return writeErrors.length ? { ok: 1, n, writeErrors } : { ok: 1, n };
  }

  /** findAndModify: remove, or update/replace (with upsert, returning the document before or after). */
  private findAndModify(ns: string, cmd: Doc): Doc {
    const [doc] = this.query(ns, cmd.query ?? {}, cmd.sort, 0, 1);
    if (cmd.remove) {
      if (doc) this.coll(ns).splice(this.coll(ns).indexOf(doc), 1);
      return { ok: 1, value: doc ?? null, lastErrorObject: { n: doc ? 1 : 0 } };
    }
    if (!cmd.update || Array.isArray(cmd.update)) throw new Error('findAndModify: only remove, or update with a document, is supported by the double');
    if (!doc && !cmd.upsert) return { ok: 1, value: null, lastErrorObject: { n: 0, updatedExisting: false } };
    const made = this.applyUpdate(doc, cmd.query ?? {}, cmd.update);
    if ('error' in made) throw new CommandError(made.error.code, made.error.code === 66 ? 'ImmutableField' : 'Location' + made.error.code, made.error.errmsg);
    const dup = this.duplicateKey(ns, made.next, doc);
    if (dup) throw new CommandError(11000, 'DuplicateKey', dup.errmsg);
    const c = this.coll(ns);
    if (doc) c[c.indexOf(doc)] = made.next;
    else c.push(made.next);
    const lastErrorObject = doc ? { n: 1, updatedExisting: true } : { n: 1, updatedExisting: false, upserted: made.next._id };
    return { ok: 1, value: cmd.new ? made.next : (doc ?? null), lastErrorObject };
  }

  private aggregate(ns: string, pipeline: Doc[]): Doc {
    let docs = this.coll(ns);
    for (const stage of pipeline) {
      if (stage.$match) docs = docs.filter((d) => matches(d, stage.$match));
      else if (stage.$skip !== undefined) docs = docs.slice(stage.$skip);
      else if (stage.$limit !== undefined) docs = docs.slice(0, stage.$limit);
      else if (stage.$group) docs = group(docs, stage.$group);
      else throw new Error(`aggregate stage ${Object.keys(stage)[0]} is not supported by the double`);
    }
    return this.cursorReply(ns, docs);
  }
}

type Doc = Record<string, any>;

/** $group with _id null/constant, "$field" or { name: "$field" }, and the accumulators the double implements. */
function group(docs: Doc[], spec: Doc): Doc[] {
  const { _id: idSpec, ...fields } = spec;
  const accumulators = Object.entries(fields).map(([field, acc]) => {
    const [op, ...more] = Object.keys(acc ?? {});
    if (!op || more.length || typeof acc !== 'object') throw new CommandError(40234, 'Location40234', `The field '${field}' must be an accumulator object`);
    if (!SERVER_ACCUMULATORS.has(op)) throw new CommandError(15952, 'Location15952', `unknown group operator '${op}'`);
    return { field, op, arg: acc[op] };
  });
  const groups = new Map<string, { id: unknown; members: Doc[] }>();
  for (const d of docs) {
    const id = evaluate(d, idSpec);
    const key = JSON.stringify(id ?? null);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { id: id ?? null, members: [] }));
    g.members.push(d);
  }
  return [...groups.values()].map(({ id, members }) => {
    const out: Doc = { _id: id };
    for (const { field, op, arg } of accumulators) {
      const values = members.map((m) => evaluate(m, arg));
      const numbers = values.map(comparable).filter((v): v is number => typeof v === 'number');
      const present = values.filter((v) => v !== undefined && v !== null);
      switch (op) {
        case '$sum': out[field] = numbers.reduce((a, b) => a + b, 0); break;
        case '$count': out[field] = members.length; break;
        case '$avg': out[field] = numbers.length ? numbers.reduce((a, b) => a + b, 0) / numbers.length : null; break;
        case '$min': out[field] = present.length ? present.reduce((a, b) => (compare(a, b) <= 0 ? a : b)) : null; break;
        case '$max': out[field] = present.length ? present.reduce((a, b) => (compare(a, b) >= 0 ? a : b)) : null; break;
        case '$first': out[field] = values[0] ?? null; break;
        case '$last': out[field] = values.at(-1) ?? null; break;
        case '$push': out[field] = values.filter((v) => v !== undefined); break;
        case '$addToSet': out[field] = present.filter((v, i) => present.findIndex((w) => equal(v, w)) === i); break;
        default: throw new Error(`$group accumulator ${op} is not supported by the double`);
      }
    }
    return out;
  });
}

/** An aggregation expression: "$field", a constant, or an object of expressions. */
function evaluate(doc: Doc, expr: unknown): unknown {
  if (typeof expr === 'string' && expr.startsWith('$')) return expr.slice(1).split('.').reduce<any>((v, k) => (v == null ? undefined : v[k]), doc);
  if (expr && typeof expr === 'object' && !(expr instanceof ObjectId) && !(expr instanceof Date) && !Array.isArray(expr)) {
    if (Object.keys(expr).some((k) => k.startsWith('$'))) throw new Error(`expression ${Object.keys(expr)[0]} is not supported by the double`);
    return Object.fromEntries(Object.entries(expr).map(([k, v]) => [k, evaluate(doc, v)]));
  }
  return expr;
}

/** Up to `count` documents, and no more than fit in one 16 MiB reply (at least one), as a server batches. */
function takeBatch(docs: Doc[], count: number): Doc[] {
  let bytes = 0;
  let n = 0;
  while (n < Math.min(count, docs.length)) {
    bytes += BSON.calculateObjectSize(docs[n]);
    if (n > 0 && bytes > MAX_BSON_OBJECT_SIZE) break;
    n++;
  }
  return docs.slice(0, n);
}

function errorReply(err: CommandError): Doc {
  return { ok: 0, errmsg: err.message, code: err.code, codeName: err.codeName };
}

function opMsg(responseTo: number, doc: Doc): Buffer {
  const body = BSON.serialize(doc);
  const header = Buffer.alloc(21);
  header.writeInt32LE(21 + body.length, 0);
  header.writeInt32LE(0, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(2013, 12);
  header.writeUInt32LE(0, 16);
  header[20] = 0;
  return Buffer.concat([header, body]);
}

function opReply(responseTo: number, doc: Doc): Buffer {
  const body = BSON.serialize(doc);
  const header = Buffer.alloc(36);
  header.writeInt32LE(36 + body.length, 0);
  header.writeInt32LE(0, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(1, 12);
  header.writeInt32LE(0, 16);
  header.writeBigInt64LE(0n, 20);
  header.writeInt32LE(0, 28);
  header.writeInt32LE(1, 32);
  return Buffer.concat([header, body]);
}

function show(v: unknown): string {
  return v instanceof ObjectId ? `ObjectId('${v.toHexString()}')` : JSON.stringify(v);
}

function comparable(v: unknown): unknown {
  if (v instanceof ObjectId) return v.toHexString();
  if (v instanceof Date) return v.getTime();
  if (v instanceof Long) return v.toNumber();
  return v;
}

function equal(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return comparable(a) === comparable(b);
}

function compare(a: unknown, b: unknown): number {
  const x = comparable(a) as any;
  const y = comparable(b) as any;
  return x < y ? -1 : x > y ? 1 : 0;
}

function matches(doc: Doc, filter: Doc): boolean {
  return Object.entries(filter).every(([field, cond]) => {
    const v = doc[field];
    const isOps = cond && typeof cond === 'object' && !(cond instanceof ObjectId) && !(cond instanceof Date) && Object.keys(cond).some((k) => k.startsWith('$'));
    if (!isOps) return equal(v, cond);
    return Object.entries(cond as Doc).every(([op, arg]) => {
      switch (op) {
        case '$eq': return equal(v, arg);
        case '$ne': return !equal(v, arg);
        case '$gt': return v !== undefined && compare(v, arg) > 0;
        case '$gte': return v !== undefined && compare(v, arg) >= 0;
        case '$lt': return v !== undefined && compare(v, arg) < 0;
        case '$lte': return v !== undefined && compare(v, arg) <= 0;
        case '$in': return (arg as unknown[]).some((a) => equal(v, a));
        default: throw new Error(`query operator ${op} is not supported by the double`);
      }
    });
  });
}

function equalities(filter: Doc): Doc {
  return Object.fromEntries(Object.entries(filter).filter(([, c]) => !(c && typeof c === 'object' && !(c instanceof ObjectId) && !(c instanceof Date) && Object.keys(c).some((k) => k.startsWith('$')))));
}

function applyOperators(doc: Doc, update: Doc, inserting: boolean): Doc {
  for (const [op, fields] of Object.entries(update)) {
    if (op === '$set' || (op === '$setOnInsert' && inserting)) Object.assign(doc, fields);
    else if (op === '$setOnInsert') continue;
    else if (op === '$unset') for (const f of Object.keys(fields as Doc)) delete doc[f];
    else throw new Error(`update operator ${op} is not supported by the double`);
  }
  return doc;
}
