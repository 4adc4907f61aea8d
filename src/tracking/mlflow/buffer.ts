import { randomBytes } from 'node:crypto';
import type { Store } from '../../store/store.ts';
import type { TrackerLog } from '../event-tracker.ts';
import { describe } from '../event-tracker.ts';
import type { TrackOp } from '../model.ts';
import type { OpJournal } from '../op-queue.ts';
import type { MlflowClient } from './client.ts';
import { displayUri } from '../mlflow-uri.ts';
import { isTransient } from './http.ts';
import { MlflowWriter, type RemoteRun } from './writer.ts';

/** Store collection holding operations that could not reach the MLflow server. */
export const TRACKING_BUFFER = 'tracking-buffer';

export interface BufferDoc {
  /** The server's URL without user name and password. */
  uri: string;
  experiment: string;
  created: number;
  ops: TrackOp[];
  /** Runs already created on the server that the buffered ops refer to. */
  refs: Record<string, RemoteRun>;
}

/** A journal for one tracking session: one document in the store, rewritten as operations accumulate. */
export function storeJournal(store: Store, meta: { uri: string; experiment: string }, writer: MlflowWriter): OpJournal {
  const id = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`;
  const created = Date.now();
  return {
    location: `${store.location} (${TRACKING_BUFFER}/${id})`,
    async save(ops) {
      const doc: BufferDoc = { uri: meta.uri, experiment: meta.experiment, created, ops: [...ops], refs: writer.exportRefs() };
      await store.putDoc(TRACKING_BUFFER, id, doc);
    },
  };
}

export interface ReplayResult {
  sessions: number;
  replayed: number;
  dropped: number;
  /** Operations still buffered (server went down again). */
  remaining: number;
  /** Buffers for other servers, left alone. */
  otherServers: string[];
}

/**
 * Sends buffered operations to the server at `client.baseUrl`, oldest session first. Stops at the first
 * connection failure and keeps the rest; an operation the server rejects is dropped with a warning.
 */
export async function replayBuffers(opts: { store: Store; client: MlflowClient; log: TrackerLog; signal?: AbortSignal }): Promise<ReplayResult> {
  const { store, client, log } = opts;
  const result: ReplayResult = { sessions: 0, replayed: 0, dropped: 0, remaining: 0, otherServers: [] };
  const ids: string[] = [];
  for await (const id of store.listDocIds(TRACKING_BUFFER)) ids.push(id);
  ids.sort();
  const here = normalise(client.baseUrl);
  for (const [index, id] of ids.entries()) {
    const doc = await store.getDoc<BufferDoc>(TRACKING_BUFFER, id);
    if (!doc) continue;
    if (normalise(doc.uri) !== here) {
      result.otherServers.push(normalise(doc.uri));
      result.remaining += doc.ops.length;
      continue;
    }
    result.sessions++;
    const writer = new MlflowWriter({ client, store, experiment: doc.experiment, dedupeCreates: true, log });
    writer.importRefs(doc.refs);
    let i = 0;
    for (; i < doc.ops.length; i++) {
      if (opts.signal?.aborted) break;
      try {
        await writer.apply(doc.ops[i]);
        result.replayed++;
      } catch (err) {
        if (isTransient(err)) break;
        result.dropped++;
        log('warn', `tracking: buffered ${doc.ops[i].op} ${doc.ops[i].ref} rejected by the server, dropped: ${describe(err)}`);
      }
    }
    if (i < doc.ops.length) {
      await store.putDoc(TRACKING_BUFFER, id, { ...doc, uri: normalise(doc.uri), ops: doc.ops.slice(i), refs: writer.exportRefs() } satisfies BufferDoc);
      result.remaining += doc.ops.length - i;
      for (const later of ids.slice(index + 1)) result.remaining += (await store.getDoc<BufferDoc>(TRACKING_BUFFER, later))?.ops.length ?? 0;
      return result;
    }
    await store.deleteDoc(TRACKING_BUFFER, id);
  }
  return result;
}

/** How many operations are buffered, per server. */
export async function bufferedCounts(store: Store): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for await (const id of store.listDocIds(TRACKING_BUFFER)) {
    const doc = await store.getDoc<BufferDoc>(TRACKING_BUFFER, id);
    if (doc) out[normalise(doc.uri)] = (out[normalise(doc.uri)] ?? 0) + doc.ops.length;
  }
  return out;
}

/** Without user info (buffers written before it was stripped may hold a password) and trailing slashes. */
function normalise(uri: string): string {
  return displayUri(uri).replace(/\/+$/, '');
}
