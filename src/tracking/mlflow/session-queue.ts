import type { Store } from '../../store/store.ts';
import type { TrackingConfig } from '../config.ts';
import { mlflowClient } from '../connection.ts';
import { describe, type TrackerLog } from '../event-tracker.ts';
import { OpQueue } from '../op-queue.ts';
import { replayBuffers, storeJournal } from './buffer.ts';
import { isTransient, MlflowAuthError } from './http.ts';
import { MlflowWriter } from './writer.ts';

/**
 * The operation queue of a tracking session against an MLflow server (loaded only when one is
 * configured, with its HTTP client): buffered to the store while the server is down, and earlier
 * buffers replayed in the background; `beforeClose` waits for that replay (bounded).
 */
export function mlflowSessionQueue(o: { uri: string; config: TrackingConfig; store: Store; experiment: string; log: TrackerLog; env?: NodeJS.ProcessEnv; backoffMs?: number }): { queue: OpQueue; beforeClose(): Promise<void> } {
  const client = mlflowClient(o.uri, { timeoutMs: o.config.timeout_ms, retries: o.config.retries, backoffMs: o.backoffMs }, o.env);
  const writer = new MlflowWriter({ client, store: o.store, experiment: o.experiment, log: o.log });
  const queue = new OpQueue({ writer, log: o.log, journal: storeJournal(o.store, { uri: client.baseUrl, experiment: o.experiment }, writer), isTransient, offlineReason, flushTimeoutMs: o.config.flush_timeout_ms });
  const replay = startReplay(o.store, client, o.log);
  return { queue, beforeClose: () => replay.finish(o.config.flush_timeout_ms) };
}

function offlineReason(err: unknown): string | undefined {
  return err instanceof MlflowAuthError ? 'tracking server refused the request' : undefined;
}

/** Replays what earlier runs buffered, in the background; `finish` waits for it (bounded). */
function startReplay(store: Store, client: ReturnType<typeof mlflowClient>, log: TrackerLog) {
  const controller = new AbortController();
  const done = replayBuffers({ store, client, log, signal: controller.signal })
    .then((r) => {
      if (r.replayed || r.dropped) log('info', `tracking: replayed ${r.replayed} buffered operations to ${client.baseUrl}${r.dropped ? `, ${r.dropped} rejected` : ''}${r.remaining ? `, ${r.remaining} still buffered` : ''}`);
    })
    .catch((err) => log('warn', `tracking: replay of buffered operations failed: ${describe(err)}`));
  return {
    async finish(timeoutMs: number) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      controller.abort();
    },
  };
}
