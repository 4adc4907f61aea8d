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

/**
 * The tracked files that differ from the commit (modified, staged, deleted, renamed): a run from a
 * dirty working tree cannot be reproduced from its commit alone. Untracked files are not counted
 * (data, outputs); the experiment file itself is recorded by its hash anyway.
 */
export async function gitChangedFiles(dir: string): Promise<string[] | undefined> {
  try {
    const { stdout } = await promisify(execFile)('git', ['status', '--porcelain', '--untracked-files=no', '-z'], { cwd: dir, timeout: 5000, maxBuffer: 16 << 20 });
    return stdout.split('\0').filter(Boolean).map((entry) => entry.slice(3));
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
  const experiment = await loadExperiment(options.file, { overrides: options.overrides });
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
  // In parallel: `git status` is a process start, reading HEAD is a few file reads.
  const [commit, gitStatus] = await Promise.all([gitCommit(experiment.dir), gitChangedFiles(experiment.dir)]);
  const changed = commit ? gitStatus : undefined;
  const signal = options.signal ?? new AbortController().signal;
  const recorder = new RunRecorder(store, {
    id: runId,
    experiment: experiment.name,
    file: experiment.file,
    fileHash: experiment.fileHash,
    gitCommit: commit,
    ...(changed ? { gitDirty: changed.length > 0, gitChanged: changed.slice(0, 50) } : {}),
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
