import { createServer, type Server, type Socket } from 'node:net';
import { BSON, Long, ObjectId } from 'mongodb';

/**
 * An in-memory server speaking the subset of the MongoDB wire protocol the official driver uses for
 * GridFS and plain CRUD: OP_QUERY/OP_MSG hello, ping, insert, find, getMore, killCursors, update,
 * delete, findAndModify, aggregate ($match/$skip/$limit/$group count), createIndexes (unique honoured),
 * listIndexes, drop, endSessions. Queries: equality, $eq/$gt/$gte/$lt/$lte/$in/$ne, sort, skip, limit.
 * A test double, not a database: no transactions, no replication, one process.
 */
export class MongoWireDouble {
  private server?: Server;
  private readonly collections = new Map<string, Doc[]>();
  private readonly unique = new Map<string, string[][]>();
  private readonly cursors = new Map<string, { ns: string; docs: Doc[] }>();
  private nextCursor = 1;
  readonly commands: string[] = [];
  port = 0;

  async start(): Promise<string> {
    this.server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return `mongodb://127.0.0.1:${this.port}/pipeline_test?directConnection=true`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** The raw documents of `db.collection` (for assertions). */
  docs(ns: string): Doc[] {
    return this.collections.get(ns) ?? [];
  }

  private serve(socket: Socket): void {
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= buffered.readInt32LE(0)) {
        const length = buffered.readInt32LE(0);
        const message = buffered.subarray(0, length);
        buffered = buffered.subarray(length);
        const reply = this.handle(message);
        if (reply) socket.write(reply);
      }
    });
    socket.on('error', () => undefined);
  }

  private handle(msg: Buffer): Buffer | undefined {
    const requestId = msg.readInt32LE(4);
    const opCode = msg.readInt32LE(12);
    if (opCode === 2004) {
      // OP_QUERY, used by the driver only for the first hello.
      let p = 20;
      while (msg[p] !== 0) p++;
      const query = BSON.deserialize(msg.subarray(p + 9, p + 9 + msg.readInt32LE(p + 9)));
      return opReply(requestId, this.run(query, 'admin'));
    }
    if (opCode !== 2013) throw new Error(`mongo double: unsupported opcode ${opCode}`);
    const flags = msg.readUInt32LE(16);
    const end = flags & 1 ? msg.length - 4 : msg.length;
    let p = 20;
    let body: Doc = {};
    while (p < end) {
      const kind = msg[p++];
      const size = msg.readInt32LE(p);
      if (kind === 0) body = BSON.deserialize(msg.subarray(p, p + size), { promoteLongs: true });
      else {
        let q = p + 4;
        while (msg[q] !== 0) q++;
        const name = msg.toString('utf8', p + 4, q);
        const docs: Doc[] = [];
        for (let d = q + 1; d < p + size; d += msg.readInt32LE(d)) docs.push(BSON.deserialize(msg.subarray(d, d + msg.readInt32LE(d))));
        body[name] = docs;
      }
      p += size;
    }
    const reply = this.run(body, body.$db ?? 'admin');
    return flags & 2 ? undefined : opMsg(requestId, reply);
  }

  private run(cmd: Doc, db: string): Doc {
    const name = Object.keys(cmd)[0];
    const lower = name.toLowerCase();
    this.commands.push(name);
    const ns = `${db}.${cmd[name]}`;
    try {
      switch (lower) {
        case 'hello':
        case 'ismaster':
          return {
            ok: 1, helloOk: true, ismaster: true, isWritablePrimary: true, maxBsonObjectSize: 16 * 1024 * 1024, maxMessageSizeBytes: 48_000_000,
            maxWriteBatchSize: 100_000, localTime: new Date(), logicalSessionTimeoutMinutes: 30, connectionId: 1, minWireVersion: 0, maxWireVersion: 21, readOnly: false,
          };
        case 'ping':
        case 'endsessions':
          return { ok: 1 };
        case 'buildinfo':
          return { ok: 1, version: '7.0.0-double', versionArray: [7, 0, 0, 0] };
        case 'insert':
          return this.insert(ns, cmd.documents);
        case 'find':
          return this.cursorReply(ns, this.query(ns, cmd.filter ?? {}, cmd.sort, cmd.skip, cmd.limit, cmd.projection), cmd.batchSize, cmd.singleBatch);
        case 'getmore':
          return this.getMore(String(cmd.getMore), cmd.batchSize);
        case 'killcursors':
          for (const id of cmd.cursors) this.cursors.delete(String(id));
          return { ok: 1, cursorsKilled: cmd.cursors };
        case 'update':
          return this.update(ns, cmd.updates);
        case 'delete':
          return this.remove(ns, cmd.deletes);
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
      return { ok: 0, errmsg: (err as Error).message, code: 8000 };
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

  private violates(ns: string, doc: Doc, except?: Doc): boolean {
    const keys = [['_id'], ...this.uniqueKeys(ns)];
    return this.coll(ns).some((other) => other !== except && keys.some((k) => k.every((f) => equal(other[f], doc[f]))));
  }

  private insert(ns: string, docs: Doc[]): Doc {
    const writeErrors: Doc[] = [];
    let n = 0;
    docs.forEach((doc, index) => {
      doc._id ??= new ObjectId();
      if (this.violates(ns, doc)) writeErrors.push({ index, code: 11000, errmsg: `E11000 duplicate key error collection: ${ns}` });
      else {
        this.coll(ns).push(doc);
        n++;
      }
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
    const size = batchSize || 101;
    const first = docs.slice(0, size);
    let id = 0;
    if (!single && docs.length > size) {
      id = this.nextCursor++;
      this.cursors.set(String(id), { ns, docs: docs.slice(size) });
    }
    return { ok: 1, cursor: { id: Long.fromNumber(id), ns, firstBatch: first } };
  }

  private getMore(id: string, batchSize?: number): Doc {
    const cursor = this.cursors.get(id);
    if (!cursor) return { ok: 0, errmsg: `cursor id ${id} not found`, code: 43, codeName: 'CursorNotFound' };
    const batch = cursor.docs.splice(0, batchSize || 1000);
    if (!cursor.docs.length) this.cursors.delete(id);
    return { ok: 1, cursor: { id: Long.fromNumber(cursor.docs.length ? Number(id) : 0), ns: cursor.ns, nextBatch: batch } };
  }

  private update(ns: string, updates: Doc[]): Doc {
    let n = 0;
    let nModified = 0;
    const upserted: Doc[] = [];
    const writeErrors: Doc[] = [];
    updates.forEach((u, index) => {
      const targets = this.coll(ns).filter((d) => matches(d, u.q));
      const chosen = u.multi ? targets : targets.slice(0, 1);
      const isOperator = Object.keys(u.u).some((k) => k.startsWith('$'));
      if (!chosen.length && u.upsert) {
        const doc = isOperator ? applyOperators({ ...equalities(u.q) }, u.u) : { _id: u.q._id ?? new ObjectId(), ...u.u };
        doc._id ??= u.q._id ?? new ObjectId();
        if (this.violates(ns, doc)) writeErrors.push({ index, code: 11000, errmsg: `E11000 duplicate key error collection: ${ns}` });
        else {
          this.coll(ns).push(doc);
          upserted.push({ index, _id: doc._id });
          n++;
        }
        return;
      }
      for (const doc of chosen) {
        const next = isOperator ? applyOperators({ ...doc }, u.u) : { _id: doc._id, ...u.u };
        const c = this.coll(ns);
        c[c.indexOf(doc)] = next;
        n++;
        nModified++;
      }
    });
    return { ok: 1, n, nModified, ...(upserted.length ? { upserted } : {}), ...(writeErrors.length ? { writeErrors } : {}) };
  }

  private remove(ns: string, deletes: Doc[]): Doc {
    let n = 0;
    for (const d of deletes) {
      const c = this.coll(ns);
      const hits = c.filter((doc) => matches(doc, d.q));
      for (const doc of d.limit === 1 ? hits.slice(0, 1) : hits) {
        c.splice(c.indexOf(doc), 1);
        n++;
      }
    }
    return { ok: 1, n };
  }

  private findAndModify(ns: string, cmd: Doc): Doc {
    const [doc] = this.query(ns, cmd.query ?? {}, cmd.sort, 0, 1);
    if (cmd.remove) {
      if (doc) this.coll(ns).splice(this.coll(ns).indexOf(doc), 1);
      return { ok: 1, value: doc ?? null, lastErrorObject: { n: doc ? 1 : 0 } };
    }
    throw new Error('findAndModify: only remove is supported by the double');
  }

  private aggregate(ns: string, pipeline: Doc[]): Doc {
    let docs = this.coll(ns);
    for (const stage of pipeline) {
      if (stage.$match) docs = docs.filter((d) => matches(d, stage.$match));
      else if (stage.$skip !== undefined) docs = docs.slice(stage.$skip);
      else if (stage.$limit !== undefined) docs = docs.slice(0, stage.$limit);
      else if (stage.$group) {
        const [field, acc] = Object.entries(stage.$group).find(([k]) => k !== '_id') as [string, Doc];
        docs = docs.length ? [{ _id: stage.$group._id, [field]: acc.$sum === 1 ? docs.length : 0 }] : [];
      } else throw new Error(`aggregate stage ${Object.keys(stage)[0]} is not supported by the double`);
    }
    return this.cursorReply(ns, docs);
  }
}

type Doc = Record<string, any>;

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
  return Object.fromEntries(Object.entries(filter).filter(([, c]) => !(c && typeof c === 'object' && Object.keys(c).some((k) => k.startsWith('$')))));
}

function applyOperators(doc: Doc, update: Doc): Doc {
  for (const [op, fields] of Object.entries(update)) {
    if (op === '$set' || op === '$setOnInsert') Object.assign(doc, fields);
    else if (op === '$unset') for (const f of Object.keys(fields as Doc)) delete doc[f];
    else throw new Error(`update operator ${op} is not supported by the double`);
  }
  return doc;
}
