import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpus } from 'node:os';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { loadExperiment, type Experiment } from '../experiment/load.ts';
import type { EventSink, PipelineEvent, RunStatus } from './events.ts';
import { execute, type InstanceResult } from './executor.ts';
import { newRunId, RunRecorder } from './run-record.ts';
import type { RunOptions, RunResult } from './runner-api.ts';
import { selectInstances } from './selection.ts';
import { createTracker } from '../tracking/index.ts';
import { redactUrlPasswords } from '../util/redact.ts';
import { gitHead } from '../util/git-head.ts';

export type { RunOptions, RunResult } from './runner-api.ts';

export function defaultConcurrency(): number {
  return Math.max(1, cpus().length);
}

export async function gitCommit(dir: string): Promise<string | undefined> {
  // Reading .git is a few file reads; starting git costs tens of milliseconds of every run's start.
  const head = await gitHead(dir);
  if (head !== null) return head;
  try {
    const { stdout } = await promisify(execFile)('git', ['rev-parse', 'HEAD'], { cwd: dir, timeout: 5000 });
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Fans events out to sinks; a failing sink is reported once and never stops the run. */
function fanOut(sinks: EventSink[], onSinkError: (err: unknown) => void): (e: PipelineEvent) => void {
  return (event) => {
    for (const sink of sinks) {
      try {
        const r = sink.handle(event);
        if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch(onSinkError);
      } catch (err) {
        onSinkError(err);
      }
    }
  };
}

/** Loads the experiment and runs it: the programmatic equivalent of `pipeline run`. */
export async function runPipeline(options: RunOptions): Promise<RunResult> {
  const experiment = await loadExperiment(options.file);
  const store = await openStore(options.store);
  try {
    return await runLoaded(experiment, store, options);
  } finally {
    await store.close();
  }
}

export async function runLoaded(experiment: Experiment, store: Store, options: Omit<RunOptions, 'file' | 'store'>): Promise<RunResult> {
  const { selected, force } = selectInstances(experiment, options);
  const runId = newRunId();
  const commit = await gitCommit(experiment.dir);
  const signal = options.signal ?? new AbortController().signal;
  const recorder = new RunRecorder(store, {
    id: runId,
    experiment: experiment.name,
    file: experiment.file,
    fileHash: experiment.fileHash,
    gitCommit: commit,
    argv: process.argv.slice(2).map(redactUrlPasswords),
    ...(experiment.overrides.length ? { overrides: experiment.overrides.map(redactUrlPasswords) } : {}),
    ...(options.sweep ? { sweep: options.sweep } : {}),
    pid: process.pid,
    status: 'running',
    startedAt: Date.now(),
    instances: [],
  });
  await recorder.save();
  const userSinks = options.sinks ?? [];
  const warnSinks = (message: string) => userSinks.forEach((s) => void s.handle({ type: 'log', runId, level: 'warn', message, time: Date.now() }));
  const tracker = options.tracker ?? await createTracker({
    config: experiment.tracking as any,
    store,
    experimentName: experiment.name,
    experimentFile: experiment.file,
    gitCommit: commit,
    log: (level, message) => userSinks.forEach((s) => void s.handle({ type: 'log', runId, level, message, time: Date.now() })),
  }).catch((err) => {
    warnSinks(`tracking disabled: ${err instanceof Error ? err.message : err}`);
    return undefined;
  });
  const sinks: EventSink[] = [recorder, ...userSinks, ...(tracker ? [tracker] : [])];
  let sinkWarned = false;
  const emit = fanOut(sinks, (err) => {
    if (sinkWarned) return;
    sinkWarned = true;
    warnSinks(`an event handler failed (the run goes on): ${err instanceof Error ? err.message : err}`);
  });
  const started = Date.now();
  const instanceIds = experiment.instances.filter((i) => !selected || selected.has(i.id)).map((i) => i.id);
  emit({ type: 'run-start', runId, experiment: experiment.name, file: experiment.file, instances: instanceIds, params: experiment.params, ...(experiment.overrides.length ? { overrides: experiment.overrides.map(redactUrlPasswords) } : {}), time: started });
  let results: InstanceResult[];
  try {
    results = await execute({ experiment, store, runId, concurrency: options.concurrency ?? defaultConcurrency(), selected, force, keepGoing: options.keepGoing, signal, emit, executor: options.executor, cpuShare: options.shared?.cpuShare, hasher: options.shared?.hasher, readThrough: options.readThrough });
  } catch (err) {
    emit({ type: 'run-end', runId, status: 'failed', durationMs: Date.now() - started, time: Date.now() });
    await Promise.allSettled(sinks.map((s) => s.close?.()));
    throw err;
  }
  const status: RunStatus = signal.aborted || results.some((r) => r.status === 'cancelled') ? 'cancelled' : results.some((r) => r.status === 'failed') ? 'failed' : 'succeeded';
  emit({ type: 'run-end', runId, status, durationMs: Date.now() - started, time: Date.now() });
  await Promise.allSettled(sinks.map((s) => s.close?.()));
  return {
    runId,
    status,
    instances: results.map((r) => ({ id: r.id, stage: r.stage, status: r.status, artifact: r.artifact, durationMs: r.durationMs, error: r.error, ...(r.inputError ? { inputError: true } : {}), ...(r.workers ? { workers: r.workers } : {}), ...(r.key ? { key: r.key } : {}), ...(r.parts ? { parts: r.parts } : {}) })),
  };
}

/** What `pipeline plan` prints: per instance, whether it will run and why. Runs nothing; writes only what a read-through fetches (`pipeline pull`). */
export async function planLoaded(experiment: Experiment, store: Store, options: Pick<RunOptions, 'only' | 'from' | 'force' | 'readThrough'>): Promise<InstanceResult[]> {
  const { selected, force } = selectInstances(experiment, options);
  return execute({ experiment, store, runId: 'plan', concurrency: defaultConcurrency(), selected, force, signal: new AbortController().signal, emit: () => {}, dryRun: true, readThrough: options.readThrough });
}
