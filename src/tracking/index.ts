import type { EventSink, PipelineEvent } from '../engine/events.ts';
import type { Store } from '../store/store.ts';
import { trackingConfigSchema, type TrackingConfig, type TrackingConfigInput } from './config.ts';
import { mlflowClient, mlflowUri } from './connection.ts';
import { describe, EventTracker, type TrackerLog } from './event-tracker.ts';
import { LocalTrackWriter } from './local/local-tracker.ts';
import { replayBuffers, storeJournal } from './mlflow/buffer.ts';
import { isTransient } from './mlflow/http.ts';
import { MlflowWriter } from './mlflow/writer.ts';
import { OpQueue } from './op-queue.ts';

export interface CreateTrackerOptions {
  config?: TrackingConfig | TrackingConfigInput;
  store: Store;
  experimentName: string;
  experimentFile: string;
  gitCommit?: string;
  log: TrackerLog;
  /** Defaults to process.env (MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN, ...). */
  env?: NodeJS.ProcessEnv;
  /** Test hook: first retry delay of the MLflow client. */
  backoffMs?: number;
}

/**
 * The tracker for one pipeline run, as an event sink: MLflow when `MLFLOW_TRACKING_URI` (or the
 * config's `uri`) is set, else the local tracker in the store. It never throws into the engine and
 * never blocks it: operations are sent in the background; `close()` waits at most
 * `flush_timeout_ms` and buffers the rest on disk for a later replay.
 */
export async function createTracker(opts: CreateTrackerOptions): Promise<EventSink> {
  const log = safeLog(opts.log);
  try {
    const config = trackingConfigSchema.parse(opts.config ?? {});
    if (!config.enabled) return { handle() {} };
    const experiment = config.experiment ?? opts.experimentName;
    const uri = mlflowUri(config.uri, opts.env);
    const base = { store: opts.store, experimentFile: opts.experimentFile, gitCommit: opts.gitCommit, logArtifacts: config.log_artifacts, log };
    if (!uri) {
      const sink = new OpQueue({ writer: new LocalTrackWriter(opts.store, experiment), log, flushTimeoutMs: config.flush_timeout_ms });
      return guard(new EventTracker({ ...base, sink, trackerKind: 'local' }), log);
    }
    const client = mlflowClient(uri, { timeoutMs: config.timeout_ms, retries: config.retries, backoffMs: opts.backoffMs }, opts.env);
    const writer = new MlflowWriter({ client, store: opts.store, experiment, log });
    const sink = new OpQueue({ writer, log, journal: storeJournal(opts.store, { uri, experiment }, writer), isTransient, flushTimeoutMs: config.flush_timeout_ms });
    const replay = startReplay(opts.store, client, log);
    const tracker = new EventTracker({ ...base, sink, trackerKind: 'mlflow' });
    log('info', `tracking to MLflow at ${uri}, experiment "${experiment}"`);
    return guard(tracker, log, () => replay.finish(config.flush_timeout_ms));
  } catch (err) {
    log('warn', `tracking disabled for this run: ${describe(err)}`);
    return { handle() {} };
  }
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

/** Wraps a sink so that nothing it does can throw into the engine. */
function guard(sink: EventTracker, log: TrackerLog, beforeClose?: () => Promise<void>): EventSink {
  return {
    handle(event: PipelineEvent) {
      try {
        sink.handle(event);
      } catch (err) {
        log('warn', `tracking: ${describe(err)}`);
      }
    },
    async close() {
      try {
        // Both are bounded by flush_timeout_ms and run side by side, so the run waits at most that long.
        await Promise.all([beforeClose?.(), sink.close()]);
      } catch (err) {
        log('warn', `tracking: ${describe(err)}`);
      }
    },
  };
}

function safeLog(log: TrackerLog): TrackerLog {
  return (level, message) => {
    try {
      log(level, message);
    } catch {
      // a failing logger must not break tracking either
    }
  };
}

export { trackingConfigSchema, type TrackingConfig } from './config.ts';
export { openReader, mlflowUri, mlflowClient } from './connection.ts';
export type { TrackReader, TrackedRun, MetricPoint } from './model.ts';
