import type { EventOf, EventSink, InstanceStatus, PipelineEvent, RunStatus } from '../engine/events.ts';
import { loadArtifact, type Artifact } from '../engine/artifact.ts';
import { userInfo } from 'node:os';
import type { Store } from '../store/store.ts';
import { fitMetricKey, fitParam, fitTag, flattenParams } from './keys.ts';
import { Tags, type KeyValue, type MetricPoint, type TrackedStatus, type TrackOp } from './model.ts';
import { errorText } from '../util/error-text.ts';

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
  /** The run the pipeline run is nested under (a sweep's parent run). */
  parentRef?: string;
  /** More tags of the pipeline run (a sweep variant's name). */
  runTags?: KeyValue[];
}

interface InstanceState {
  ref: string;
  /** Metrics waiting to be sent, flushed when a new epoch starts and at the end. */
  pending: MetricPoint[];
  lastStep?: number;
  /** Per metric key: the highest step logged and the value logged there. */
  last: Map<string, { step: number; value: number }>;
}

/** The params of each instance of one stage, until all have started (then the common ones go to the parent). */
interface StageParams {
  expected: number;
  seen: Array<Record<string, string>>;
  logged: boolean;
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
  private readonly stageParams = new Map<string, StageParams>();
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
      ...contextTags(),
    ];
    if (this.opts.gitCommit) tags.push({ key: Tags.gitCommit, value: this.opts.gitCommit });
    if (e.overrides?.length) tags.push({ key: Tags.overrides, value: e.overrides.join('; ') });
    tags.push(...(this.opts.runTags ?? []));
    this.opts.sink.push({ op: 'create-run', ref: e.runId, ...(this.opts.parentRef ? { parentRef: this.opts.parentRef } : {}), name: e.runId, startTime: e.time, tags: this.fitTags(tags) });
    this.logBatch(e.runId, [], flattenParams(e.params ?? {}, 'params'), []);
    for (const instance of e.instances ?? []) {
      const stage = stageOf(instance);
      const entry = this.stageParams.get(stage) ?? { expected: 0, seen: [], logged: false };
      entry.expected++;
      this.stageParams.set(stage, entry);
    }
  }

  private ensureInstance(e: EventOf<'instance-start'> | EventOf<'instance-end'>, startTime: number): InstanceState {
    let state = this.instances.get(e.instance);
    if (state) return state;
    const parentRef = this.parentRef ?? e.runId;
    const ref = `${parentRef}/${e.instance}`;
    state = { ref, pending: [], last: new Map() };
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
      ...contextTags(),
    ];
    if (e.cacheKey) tags.push({ key: Tags.cacheKey, value: e.cacheKey });
    if (this.opts.gitCommit) tags.push({ key: Tags.gitCommit, value: this.opts.gitCommit });
    this.opts.sink.push({ op: 'create-run', ref, parentRef, name: e.instance, startTime, tags: this.fitTags(tags) });
    const params = flattenParams(e.params ?? {}, 'with');
    this.logBatch(ref, [], params, []);
    const stage = this.stageParams.get(e.stage) ?? { expected: 1, seen: [], logged: false };
    this.stageParams.set(e.stage, stage);
    stage.seen.push(params);
    if (stage.seen.length >= stage.expected) this.logStageParams(parentRef, e.stage, stage);
    return state;
  }

  /**
   * The parent run gets a stage's params as `<stage>.<param>`, only those equal in every instance of
   * the stage: a param that varies (`fold` of `train[fold=k]`) belongs to the child runs, or the parent
   * would show whichever instance logged first. Sent once all instances have started (or at run end).
   */
  private logStageParams(parentRef: string, stageName: string, stage: StageParams): void {
    if (stage.logged || stage.seen.length === 0) return;
    stage.logged = true;
    const [first, ...others] = stage.seen;
    const common: Record<string, string> = {};
    for (const [k, v] of Object.entries(first)) if (others.every((o) => o[k] === v)) common[`${stageName}.${k.slice('with.'.length)}`] = v;
    this.logBatch(parentRef, [], common, [], { quietConflicts: true });
  }

  private instanceStart(e: EventOf<'instance-start'>): void {
    this.ensureInstance(e, e.time);
  }

  private metric(e: EventOf<'metric'>): void {
    const state = this.instances.get(e.instance);
    if (!state) return;
    if (!Number.isFinite(e.value)) return this.warnOnce(`nonfinite:${e.instance}:${e.name}`, nonFiniteWarning(e.name, e.instance, e.value));
    let step = e.step ?? 0;
    if (!Number.isInteger(step)) {
      // MLflow steps are int64: a fractional step fails the whole request.
      this.warnOnce(`step:${e.instance}:${e.name}`, `tracking: metric ${e.name} of ${e.instance} has the fractional step ${step}; MLflow steps are integers, logged at step ${Math.round(step)}`);
      step = Math.round(step);
    }
    if (state.lastStep !== undefined && step !== state.lastStep) this.flushMetrics(state);
    state.lastStep = step;
    const key = fitMetricKey(e.name);
    const last = state.last.get(key);
    if (!last || step >= last.step) state.last.set(key, { step, value: e.value });
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
      const { finite, dropped } = splitFinite(artifact);
      for (const [name, value] of dropped) this.warnOnce(`nonfinite:${e.instance}:${name}`, nonFiniteWarning(name, e.instance, value));
      for (const [name, value] of Object.entries(finite)) finals.push({ key: fitMetricKey(name), value, timestamp: e.time, step: 0 });
    }
    // A final value that differs from the last per-epoch value (best checkpoint restored) goes one step
    // after the last epoch, as MLflow's Keras autologging logs restored metrics: never two values at one
    // step, and the latest value is the final one. An equal value is not logged twice.
    const childFinals = finals.flatMap((m) => {
      const last = state.last.get(m.key);
      if (!last) return [m];
      return last.value === m.value ? [] : [{ ...m, step: last.step + 1 }];
    });
    this.logBatch(state.ref, childFinals, {}, tags);
    const parentRef = this.parentRef ?? e.runId;
    const prefix = instanceKey(e.instance);
    this.logBatch(parentRef, finals.map((m) => ({ ...m, key: fitMetricKey(`${prefix}/${m.key}`), step: 0 })), {}, []);
    if (artifact && this.opts.logArtifacts && artifact.kind === 'report') {
      const files = Object.entries(artifact.files).map(([path, blob]) => ({ path, blob }));
      if (files.length) this.opts.sink.push({ op: 'upload-files', ref: state.ref, digest: artifact.digest, files });
    }
    this.opts.sink.push({ op: 'end-run', ref: state.ref, status: instanceStatus(e.status), endTime: e.time });
  }

  private runEnd(e: EventOf<'run-end'>): void {
    for (const state of this.instances.values()) this.flushMetrics(state);
    const parentRef = this.parentRef ?? e.runId;
    // A foreach stage of which only one instance started (a failed run) cannot tell what varies: its params stay on the child.
    for (const [name, stage] of this.stageParams) if (stage.expected <= 1 || stage.seen.length >= 2) this.logStageParams(parentRef, name, stage);
    this.logBatch(parentRef, [], {}, [{ key: Tags.status, value: e.status }]);
    this.opts.sink.push({ op: 'end-run', ref: parentRef, status: runStatus(e.status), endTime: e.time });
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
  return splitFinite(artifact).finite;
}

/** `meta.metrics` split into finite numbers and the NaN / ±Infinity ones (null in JSON counts as NaN). */
function splitFinite(artifact: Artifact): { finite: Record<string, number>; dropped: Array<[string, number]> } {
  const metrics = artifact.meta.metrics;
  const finite: Record<string, number> = {};
  const dropped: Array<[string, number]> = [];
  if (metrics && typeof metrics === 'object') {
    for (const [k, v] of Object.entries(metrics as Record<string, unknown>)) {
      if (typeof v === 'number' && Number.isFinite(v)) finite[k] = v;
      else if (typeof v === 'number' || v === null) dropped.push([k, v ?? NaN]);
    }
  }
  return { finite, dropped };
}

function nonFiniteWarning(name: string, instance: string, value: number): string {
  return `tracking: metric ${name} of ${instance} is ${value}; MLflow stores only finite numbers, not logged`;
}

/** `train[fold=2]` -> `train`. */
function stageOf(instance: string): string {
  const i = instance.indexOf('[');
  return i < 0 ? instance : instance.slice(0, i);
}

let cachedUser: string | undefined | null = null;

/** What MLflow's client sets on every run it creates: the user (`getpass.getuser()`) and the source type. */
export function contextTags(): KeyValue[] {
  if (cachedUser === null) {
    try {
      cachedUser = process.env.USER || process.env.LOGNAME || userInfo().username || undefined;
    } catch {
      cachedUser = undefined;
    }
  }
  return [{ key: Tags.sourceType, value: 'LOCAL' }, ...(cachedUser ? [{ key: Tags.user, value: cachedUser }] : [])];
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
  return errorText(err);
}
