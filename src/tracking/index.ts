import type { EventSink, PipelineEvent } from '../engine/events.ts';
import type { Store } from '../store/store.ts';
import { trackingConfigSchema, type TrackingConfig, type TrackingConfigInput } from './config.ts';
import { displayUri, mlflowUri } from './mlflow-uri.ts';
import { describe, EventTracker, type TrackerLog } from './event-tracker.ts';
import { LocalTrackWriter } from './local/local-tracker.ts';
import { OpQueue } from './op-queue.ts';
import type { KeyValue, TrackOp } from './model.ts';

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
  const session = await openTrackingSession(opts);
  const tracker = session.runTracker();
  return {
    handle: (event) => tracker.handle(event),
    async close() {
      await tracker.close?.();
      await session.close();
    },
  };
}

/**
 * Several pipeline runs tracked through one connection, one operation queue and one buffer journal
 * (a sweep: its parent run and every variant), so that operations keep their order and the runs can
 * refer to each other (a variant's parent), also on replay after an outage.
 */
export interface TrackingSession {
  /** `local`, `mlflow`, or `none` (tracking disabled or failed to start). */
  readonly kind: 'local' | 'mlflow' | 'none';
  /** A tracker for one pipeline run; closing it flushes that run, not the session. */
  runTracker(options?: { parentRef?: string; tags?: KeyValue[] }): EventSink;
  /** A raw operation (e.g. creating a sweep's parent run). */
  push(op: TrackOp): void;
  /** Flushes (bounded by flush_timeout_ms) and buffers what could not be sent. */
  close(): Promise<void>;
}

const NO_TRACKING: TrackingSession = { kind: 'none', runTracker: () => ({ handle() {} }), push() {}, async close() {} };

export async function openTrackingSession(opts: CreateTrackerOptions): Promise<TrackingSession> {
  const log = safeLog(opts.log);
  try {
    const config = trackingConfigSchema.parse(opts.config ?? {});
    if (!config.enabled) return NO_TRACKING;
    const experiment = config.experiment ?? opts.experimentName;
    const uri = mlflowUri(config.uri, opts.env);
    const base = { store: opts.store, experimentFile: opts.experimentFile, gitCommit: opts.gitCommit, logArtifacts: config.log_artifacts, log };
    let queue: OpQueue;
    let beforeClose: (() => Promise<void>) | undefined;
    if (!uri) {
      queue = new OpQueue({ writer: new LocalTrackWriter(opts.store, experiment), log, flushTimeoutMs: config.flush_timeout_ms });
    } else {
      // The MLflow client (and its HTTP library) loads only when a server is configured.
      const { mlflowSessionQueue } = await import('./mlflow/session-queue.ts');
      ({ queue, beforeClose } = mlflowSessionQueue({ uri, config, store: opts.store, experiment, log, env: opts.env, backoffMs: opts.backoffMs }));
      log('info', `tracking to MLflow at ${displayUri(uri)}, experiment "${experiment}"`);
    }
    const trackerKind = uri ? 'mlflow' : 'local';
    // Each run's tracker flushes its own state into the shared queue; only the session closes the queue.
    const shared = { push: (op: TrackOp) => queue.push(op), close: async () => {} };
    return {
      kind: trackerKind,
      runTracker: (o = {}) => guard(new EventTracker({ ...base, sink: shared, trackerKind, ...(o.parentRef ? { parentRef: o.parentRef } : {}), ...(o.tags ? { runTags: o.tags } : {}) }), log),
      push: (op) => queue.push(op),
      async close() {
        try {
          // Both are bounded by flush_timeout_ms and run side by side, so the run waits at most that long.
          await Promise.all([beforeClose?.(), queue.close()]);
        } catch (err) {
          log('warn', `tracking: ${describe(err)}`);
        }
      },
    };
  } catch (err) {
    log('warn', `tracking disabled for this run: ${describe(err)}`);
    return NO_TRACKING;
  }
}

/** Wraps a sink so that nothing it does can throw into the engine. */
function guard(sink: EventTracker, log: TrackerLog): EventSink {
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
        await sink.close();
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
export type { TrackReader, TrackedRun, MetricPoint } from './model.ts';
