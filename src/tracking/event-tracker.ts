import type { EventOf, EventSink, InstanceStatus, PipelineEvent, RunStatus } from '../engine/events.ts';
import { loadArtifact, type Artifact } from '../engine/artifact.ts';
import type { Store } from '../store/store.ts';
import { fitMetricKey, fitParam, fitTag, flattenParams } from './keys.ts';
import { Tags, type KeyValue, type MetricPoint, type TrackedStatus, type TrackOp } from './model.ts';

export type TrackerLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

/** Where the event tracker sends operations; it must not block and must not throw. */
export interface OpSink {
  push(op: TrackOp): void;
  close(): Promise<void>;
}

export interface EventTrackerOptions {
  sink: OpSink;
  store: Store;
  trackerKind: string;
  experimentFile: string;
  gitCommit?: string;
  logArtifacts: boolean;
  log: TrackerLog;
}

interface InstanceState {
  ref: string;
  /** Metrics waiting to be sent, flushed when a new epoch starts and at the end. */
  pending: MetricPoint[];
  lastStep?: number;
  maxStep: Map<string, number>;
}

/**
 * Turns pipeline events into tracking operations: a parent run per pipeline run, a child run per
 * stage instance with its flattened params, per-epoch metrics, the final `meta.metrics` of its
 * artifact and the files of report artifacts. The parent run also gets every instance's final
 * metrics as `<instance>/<metric>` and each stage's params as `<stage>.<param>`, so that pipeline runs
 * compare side by side.
 */
export class EventTracker implements EventSink {
  private parentRef?: string;
  private readonly instances = new Map<string, InstanceState>();
  private readonly logged = new Map<string, Map<string, string>>();
  private readonly warned = new Set<string>();
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly opts: EventTrackerOptions) {}

  handle(event: PipelineEvent): void {
    // Events are processed in order; instance-end loads the artifact from the store asynchronously.
    this.chain = this.chain.then(() => this.process(event)).catch((err) => this.opts.log('warn', `tracking: ${describe(err)}`));
  }

  async close(): Promise<void> {
    await this.chain;
    for (const state of this.instances.values()) this.flushMetrics(state);
    await this.opts.sink.close();
  }

  private async process(event: PipelineEvent): Promise<void> {
    switch (event.type) {
      case 'run-start':
        return this.runStart(event);
      case 'instance-start':
        return this.instanceStart(event);
      case 'metric':
        return this.metric(event);
      case 'instance-end':
        return this.instanceEnd(event);
      case 'run-end':
        return this.runEnd(event);
      default:
        return;
    }
  }

  private runStart(e: EventOf<'run-start'>): void {
    this.parentRef = e.runId;
    const tags: KeyValue[] = [
      { key: Tags.pipelineRunId, value: e.runId },
      { key: Tags.ref, value: e.runId },
      { key: Tags.experimentFile, value: this.opts.experimentFile },
      { key: Tags.sourceName, value: this.opts.experimentFile },
      { key: Tags.tracker, value: this.opts.trackerKind },
    ];
    if (this.opts.gitCommit) tags.push({ key: Tags.gitCommit, value: this.opts.gitCommit });
    this.opts.sink.push({ op: 'create-run', ref: e.runId, name: e.runId, startTime: e.time, tags: this.fitTags(tags) });
    this.logBatch(e.runId, [], flattenParams(e.params ?? {}, 'params'), []);
  }

  private ensureInstance(e: EventOf<'instance-start'> | EventOf<'instance-end'>, startTime: number): InstanceState {
    let state = this.instances.get(e.instance);
    if (state) return state;
    const parentRef = this.parentRef ?? e.runId;
    const ref = `${parentRef}/${e.instance}`;
    state = { ref, pending: [], maxStep: new Map() };
    this.instances.set(e.instance, state);
    const tags: KeyValue[] = [
      { key: Tags.pipelineRunId, value: e.runId },
      { key: Tags.ref, value: ref },
      { key: Tags.instance, value: e.instance },
      { key: Tags.stage, value: e.stage },
      { key: Tags.uses, value: e.uses },
      { key: Tags.experimentFile, value: this.opts.experimentFile },
      { key: Tags.sourceName, value: this.opts.experimentFile },
      { key: Tags.tracker, value: this.opts.trackerKind },
    ];
    if (e.cacheKey) tags.push({ key: Tags.cacheKey, value: e.cacheKey });
    if (this.opts.gitCommit) tags.push({ key: Tags.gitCommit, value: this.opts.gitCommit });
    this.opts.sink.push({ op: 'create-run', ref, parentRef, name: e.instance, startTime, tags: this.fitTags(tags) });
    const params = flattenParams(e.params ?? {}, 'with');
    this.logBatch(ref, [], params, []);
    // The parent run gets each stage's params once (foreach instances of a stage share them).
    const stageParams: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) stageParams[`${e.stage}.${k.slice('with.'.length)}`] = v;
    this.logBatch(parentRef, [], stageParams, [], { quietConflicts: true });
    return state;
  }

  private instanceStart(e: EventOf<'instance-start'>): void {
    this.ensureInstance(e, e.time);
  }

  private metric(e: EventOf<'metric'>): void {
    const state = this.instances.get(e.instance);
    if (!state) return;
    if (!Number.isFinite(e.value)) return this.warnOnce(`nonfinite:${e.instance}:${e.name}`, `tracking: metric ${e.name} of ${e.instance} is ${e.value}; not logged`);
    const step = e.step ?? 0;
    if (state.lastStep !== undefined && step !== state.lastStep) this.flushMetrics(state);
    state.lastStep = step;
    const key = fitMetricKey(e.name);
    state.maxStep.set(key, Math.max(step, state.maxStep.get(key) ?? step));
    state.pending.push({ key, value: e.value, timestamp: e.time, step });
  }

  private async instanceEnd(e: EventOf<'instance-end'>): Promise<void> {
    const state = this.ensureInstance(e, e.time - e.durationMs);
    this.flushMetrics(state);
    const tags: KeyValue[] = [
      { key: Tags.status, value: e.status },
      { key: Tags.cached, value: String(e.status === 'cached') },
    ];
    if (e.cacheKey) tags.push({ key: Tags.cacheKey, value: e.cacheKey });
    if (e.error) tags.push({ key: Tags.error, value: e.error });
    const artifact = e.artifact ? await this.load(e.artifact) : undefined;
    const finals: MetricPoint[] = [];
    if (artifact) {
      tags.push({ key: Tags.artifact, value: artifact.digest });
      if (typeof artifact.meta.backend === 'string') tags.push({ key: Tags.mlBackend, value: artifact.meta.backend });
      for (const [name, value] of Object.entries(finalMetrics(artifact))) {
        const key = fitMetricKey(name);
        // Final values go at the last step seen so that they are the metric's latest value.
        finals.push({ key, value, timestamp: e.time, step: state.maxStep.get(key) ?? 0 });
      }
    }
    this.logBatch(state.ref, finals, {}, tags);
    const parentRef = this.parentRef ?? e.runId;
    const prefix = instanceKey(e.instance);
    this.logBatch(parentRef, finals.map((m) => ({ ...m, key: fitMetricKey(`${prefix}/${m.key}`), step: 0 })), {}, []);
    if (artifact && this.opts.logArtifacts && artifact.kind === 'report') {
      for (const [path, blob] of Object.entries(artifact.files)) this.opts.sink.push({ op: 'upload', ref: state.ref, path, blob });
    }
    this.opts.sink.push({ op: 'end-run', ref: state.ref, status: instanceStatus(e.status), endTime: e.time });
  }

  private runEnd(e: EventOf<'run-end'>): void {
    for (const state of this.instances.values()) this.flushMetrics(state);
    this.opts.sink.push({ op: 'end-run', ref: this.parentRef ?? e.runId, status: runStatus(e.status), endTime: e.time });
  }

  private async load(digest: string): Promise<Artifact | undefined> {
    try {
      return await loadArtifact(this.opts.store, digest);
    } catch (err) {
      this.opts.log('warn', `tracking: cannot load artifact ${digest.slice(0, 12)}: ${describe(err)}`);
      return undefined;
    }
  }

  private flushMetrics(state: InstanceState): void {
    if (state.pending.length === 0) return;
    const metrics = state.pending;
    state.pending = [];
    this.opts.sink.push({ op: 'log-batch', ref: state.ref, metrics, params: [], tags: [] });
  }

  /** Params are immutable in MLflow: a key already logged with another value is skipped, not re-sent. */
  private logBatch(ref: string, metrics: MetricPoint[], params: Record<string, string>, tags: KeyValue[], opts: { quietConflicts?: boolean } = {}): void {
    let seen = this.logged.get(ref);
    if (!seen) this.logged.set(ref, (seen = new Map()));
    const fresh: KeyValue[] = [];
    for (const [rawKey, rawValue] of Object.entries(params)) {
      const fitted = fitParam(rawKey, rawValue);
      if (fitted.shortened) this.warnOnce(`short:${ref}:${rawKey}`, `tracking: param ${fitted.shortened}`);
      const before = seen.get(fitted.key);
      if (before === fitted.value) continue;
      if (before !== undefined) {
        if (!opts.quietConflicts) this.warnOnce(`conflict:${ref}:${fitted.key}`, `tracking: param ${fitted.key} of ${ref} was already logged with another value; params are immutable, keeping the first`);
        continue;
      }
      seen.set(fitted.key, fitted.value);
      fresh.push({ key: fitted.key, value: fitted.value });
    }
    if (metrics.length || fresh.length || tags.length) this.opts.sink.push({ op: 'log-batch', ref, metrics, params: fresh, tags: this.fitTags(tags) });
  }

  private fitTags(tags: KeyValue[]): KeyValue[] {
    return tags.map((t) => {
      const fitted = fitTag(t.key, t.value);
      return { key: fitted.key, value: fitted.value };
    });
  }

  private warnOnce(id: string, message: string): void {
    if (this.warned.has(id)) return;
    this.warned.add(id);
    this.opts.log('warn', message);
  }
}

/** `meta.metrics` of an artifact: finite numbers only. */
export function finalMetrics(artifact: Artifact): Record<string, number> {
  const metrics = artifact.meta.metrics;
  const out: Record<string, number> = {};
  if (metrics && typeof metrics === 'object') {
    for (const [k, v] of Object.entries(metrics as Record<string, unknown>)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

/** `train[fold=2]` -> `train.fold_2`: an instance id as a metric-key prefix. */
export function instanceKey(instance: string): string {
  const m = /^(.*?)\[(.*)\]$/.exec(instance);
  const base = m ? `${m[1]}.${m[2].replace(/\s*,\s*/g, '.').replace(/=/g, '_')}` : instance;
  return base.replace(/[^\w.\- ]/g, '_');
}

function instanceStatus(status: InstanceStatus): TrackedStatus {
  if (status === 'failed') return 'FAILED';
  if (status === 'ran' || status === 'cached') return 'FINISHED';
  return 'KILLED';
}

function runStatus(status: RunStatus): TrackedStatus {
  if (status === 'succeeded') return 'FINISHED';
  if (status === 'failed') return 'FAILED';
  return 'KILLED';
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
