import type { Store } from '../store/store.ts';
import { Collections } from '../store/store.ts';
import type { Experiment, StageInstance } from '../experiment/load.ts';
import { loadArtifact, type Artifact } from './artifact.ts';
import { cacheKey, explainChange, latestId, type KeyParts, type LatestEntry } from './cache-key.ts';
import { CpuShare } from './cpu-share.ts';
import type { InstanceStatus, ItemCounts, PipelineEvent } from './events.ts';
import { ExternalHasher } from './file-hash.ts';
import { LocalExecutor } from './local-executor.ts';
import { findCached, replayWarnings } from './run-task.ts';
import { StageInputError } from './stage.ts';
import { NotAdmitted, type StageExecutor, type StageTask } from './task.ts';
import { errorText } from '../util/error-text.ts';

export interface ExecuteOptions {
  experiment: Experiment;
  store: Store;
  runId: string;
  concurrency: number;
  /** Instances to consider (default all); the others are left out of the run. */
  selected?: ReadonlySet<string>;
  /** Instances whose cache is ignored. */
  force?: ReadonlySet<string>;
  keepGoing?: boolean;
  signal: AbortSignal;
  emit(event: PipelineEvent): void;
  /** Plan only: compute keys and reasons, run nothing, write nothing. */
  dryRun?: boolean;
  /** Where tasks run (default: a LocalExecutor in this process, up to `concurrency` at once). */
  executor?: StageExecutor;
  /** Cores shared among isolated (training) stages; default: this run's own share. */
  cpuShare?: CpuShare;
  /** Hashes of external files, shared by several runs (a sweep); default: this run's own. */
  hasher?: ExternalHasher;
  /** Fetches a stage output missing from the store from elsewhere (a remote), before running it. */
  readThrough?: ReadThrough;
}

/** Puts the output of cache key `key` into the store if another store has it; says what it fetched. */
export type ReadThrough = (key: string) => Promise<{ from: string; blobs: number; bytes: number } | undefined>;

export interface InstanceResult {
  id: string;
  stage: string;
  uses: string;
  /** For a dry run: `ran` means "will run". */
  status: InstanceStatus;
  key?: string;
  artifact?: string;
  durationMs: number;
  items?: ItemCounts;
  error?: string;
  /** The stage rejected its input (a StageInputError): the user's to fix, exit code 2. */
  inputError?: boolean;
  /** Why it ran (or, in a dry run, will run). */
  reasons: string[];
  /** What its cache key was computed from (absent when it did not get that far). */
  parts?: KeyParts;
  /** `pipeline worker`s that ran it (queue executor). */
  workers?: string[];
}

/**
 * Runs a graph of instances: each starts once its inputs are done, on the executor (by default in
 * this process, up to `concurrency` at once); an
 * instance whose cache key (type, version, params, input artifact digests, external content) has a
 * committed artifact is reused. A failure skips what depends on it and, without keepGoing, stops new work.
 */
export async function execute(opts: ExecuteOptions): Promise<InstanceResult[]> {
  const { experiment, store, runId, emit, signal } = opts;
  const hasher = opts.hasher ?? new ExternalHasher(store, { remember: !opts.dryRun });
  const results = new Map<string, Promise<InstanceResult>>();
  let stopped = false;
  const byId = new Map(experiment.instances.map((i) => [i.id, i]));
  const artifacts = new Map<string, Artifact>();
  const isolated = (inst: StageInstance) => inst.type.isolate === 'worker' && (!opts.selected || opts.selected.has(inst.id));
  const cpuShare = opts.cpuShare ?? new CpuShare(experiment.instances.filter(isolated).length, opts.concurrency);
  const executor = opts.executor ?? new LocalExecutor({ store, registry: experiment.registry, concurrency: opts.concurrency, cpuShare, types: new Map(experiment.instances.map((i) => [i.uses, i.type])) });

  const settle = (inst: StageInstance, status: InstanceStatus, extra: Partial<InstanceResult> = {}): InstanceResult => {
    const result: InstanceResult = { id: inst.id, stage: inst.stage, uses: inst.uses, status, durationMs: 0, reasons: [], ...extra };
    if (!opts.dryRun || status !== 'ran') {
      emit({ type: 'instance-end', runId, instance: inst.id, stage: inst.stage, uses: inst.uses, params: inst.params, status, cacheKey: result.key, artifact: result.artifact, durationMs: result.durationMs, items: result.items, error: result.error, ...(result.workers?.length ? { workers: result.workers } : {}), time: Date.now() });
    }
    return result;
  };

  const replay = (key: string, instance: string) => replayWarnings(store, key, (message) => emit({ type: 'log', runId, instance, level: 'warn', message, time: Date.now() }));

  const runInstance = async (inst: StageInstance, upstream: InstanceResult[]): Promise<InstanceResult> => {
    if (signal.aborted) return settle(inst, 'cancelled');
    if (stopped) return settle(inst, 'skipped', { reasons: ['an earlier stage failed'] });
    const started = Date.now();
    const willRun = upstream.filter((u) => u.status === 'ran' && !u.artifact);
    if (willRun.length) {
      // Dry run: an upstream that will rerun has no output digest yet.
      return settle(inst, 'ran', { reasons: [`${willRun.length > 1 ? 'inputs' : 'input'} ${willRun.map((u) => u.id).join(', ')} will run`] });
    }
    const external: Record<string, string> = {};
    for (const e of inst.external) external[e.param] = await hasher.hash(e.path, e.glob);
    const parts: KeyParts = {
      uses: inst.uses,
      version: inst.type.version,
      params: inst.params,
      vars: inst.vars,
      inputs: inst.inputs.map((input, n) => ({ name: input.name, artifact: upstream[n].artifact! })),
      external,
      ...(inst.codeHash ? { code: inst.codeHash } : {}),
    };
    const environment = inst.type.environmentKey?.(inst.params);
    if (environment && Object.keys(environment).length) parts.environment = environment;
    const key = cacheKey(parts);
    const latestKey = latestId(experiment.latestScope, inst.id);
    // A sweep variant run for the first time explains itself against the experiment's own last run.
    const own = await store.getDoc<LatestEntry>(Collections.latest, latestKey);
    const previous = own ?? (experiment.latestScope !== experiment.name ? await store.getDoc<LatestEntry>(Collections.latest, latestId(experiment.name, inst.id)) : undefined);
    const forced = opts.force?.has(inst.id) ?? false;
    if (!forced) {
      let cached = await findCached(store, key);
      let pulled: string[] = [];
      if (!cached && opts.readThrough) {
        const got = await opts.readThrough(key);
        if (got) {
          cached = await findCached(store, key);
          pulled = [`pulled from ${got.from}`];
          emit({ type: 'log', runId, instance: inst.id, level: 'info', message: `pulled from ${got.from} (${got.blobs} blobs, ${formatBytes(got.bytes)}) instead of running`, time: Date.now() });
        }
      }
      if (cached) {
        artifacts.set(inst.id, cached);
        // Unchanged (a no-op rerun): nothing to write; `time` says when the latest output last changed.
        if (!opts.dryRun) {
          if (!(own?.key === key && own.artifact === cached.digest)) await store.putDoc(Collections.latest, latestKey, { key, parts, artifact: cached.digest, time: Date.now() } satisfies LatestEntry);
          await replay(key, inst.id);
        }
        return settle(inst, 'cached', { key, parts, artifact: cached.digest, durationMs: Date.now() - started, reasons: pulled });
      }
    }
    const reasons = forced ? ['forced'] : explainChange(parts, previous?.parts, inst.inputs.map((i) => i.instance));
    if (opts.dryRun) return settle(inst, 'ran', { key, reasons });

    const task: StageTask = {
      key,
      runId,
      instance: { id: inst.id, stage: inst.stage, uses: inst.uses, vars: inst.vars },
      uses: inst.uses,
      stageVersion: inst.type.version,
      ...(inst.codeHash ? { codeHash: inst.codeHash } : {}),
      params: inst.params,
      inputs: inst.inputs.map((input, n) => ({ name: input.name, stage: input.stage, instance: input.instance, vars: byId.get(input.instance)!.vars, artifact: upstream[n].artifact! })),
      external,
      baseDir: experiment.dir,
      forced,
      itemsHint: itemsHint(inst, upstream.map((u) => artifacts.get(u.id)), hasher),
      ...(inst.resource ? { resource: inst.resource } : {}),
      ...(inst.type.prefers ? { prefers: inst.type.prefers } : {}),
      ...(inst.type.perItem ? { perItem: true } : {}),
    };
    let begun = false;
    let items: ItemCounts | undefined;
    const forward = (e: PipelineEvent) => {
      if (e.type === 'progress' && e.instance === inst.id) items = e.items;
      emit(e);
    };
    try {
      const outcome = await executor.run(task, {
        emit: forward,
        signal,
        admit: () => !stopped && !signal.aborted,
        started: (where) => {
          if (begun) return;
          begun = true;
          emit({ type: 'instance-start', runId, instance: inst.id, stage: inst.stage, uses: inst.uses, params: inst.params, cacheKey: key, ...(where.worker ? { worker: where.worker } : {}), time: Date.now() });
        },
      });
      const artifact = outcome.artifact ? await loadArtifact(store, outcome.artifact) : undefined;
      if (!artifact) throw new Error(`the executor reported artifact ${outcome.artifact?.slice(0, 12) ?? '(none)'}, which is not in the store at ${store.location}`);
      await store.putDoc(Collections.latest, latestKey, { key, parts, artifact: artifact.digest, time: Date.now() } satisfies LatestEntry);
      artifacts.set(inst.id, artifact);
      const status = outcome.cached ? 'cached' : 'ran';
      if (outcome.cached) await replay(key, inst.id);
      return settle(inst, status, { key, parts, artifact: artifact.digest, durationMs: Date.now() - started, items: outcome.items ?? items, reasons, workers: outcome.workers });
    } catch (err) {
      if (err instanceof NotAdmitted) return settle(inst, 'skipped', { reasons: ['an earlier stage failed'] });
      if (signal.aborted) return settle(inst, 'cancelled', { key, durationMs: Date.now() - started, items, reasons });
      const message = errorText(err);
      const inputError = err instanceof StageInputError;
      if (!inputError && err instanceof Error && err.stack) emit({ type: 'log', runId, instance: inst.id, level: 'debug', message: err.stack, time: Date.now() });
      if (!opts.keepGoing) stopped = true;
      const hint = inputError && err.hint ? ` (hint: ${err.hint})` : '';
      return settle(inst, 'failed', { key, durationMs: Date.now() - started, items, error: `stage ${inst.id} (${inst.uses}): ${message}${hint}`, inputError, reasons });
    }
  };

  for (const inst of experiment.instances) {
    if (opts.selected && !opts.selected.has(inst.id)) continue;
    results.set(
      inst.id,
      (async () => {
        const upstream = await Promise.all(inst.inputs.map((i) => results.get(i.instance) ?? Promise.resolve(notSelected(i.instance))));
        const blocked = upstream.find((u) => !['ran', 'cached'].includes(u.status));
        if (blocked) return settle(inst, signal.aborted ? 'cancelled' : 'skipped', { reasons: [`input ${blocked.id} ${blocked.status}`] });
        return runInstance(inst, upstream);
      })().finally(() => {
        if (isolated(inst)) cpuShare.settled();
      }),
    );
  }
  try {
    return await Promise.all(results.values());
  } finally {
    if (!opts.executor) await executor.close();
  }
}

/** About how many items a per-item stage will see: its inputs' rows or files, else the files of its source folders. */
function itemsHint(inst: StageInstance, inputs: Array<Artifact | undefined>, hasher: ExternalHasher): number | undefined {
  const counts = inputs.map((a) => (a ? (a.rowCount ?? Object.keys(a.files).length) : 0));
  for (const e of inst.external) counts.push(hasher.fileCount(e.path, e.glob) ?? 0);
  const n = Math.max(0, ...counts);
  return n || undefined;
}

function notSelected(id: string): InstanceResult {
  return { id, stage: id, uses: '', status: 'skipped', durationMs: 0, reasons: ['not selected'] };
}

function formatBytes(n: number): string {
  return n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}
