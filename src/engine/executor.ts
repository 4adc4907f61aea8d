import PQueue from 'p-queue';
import type { Store } from '../store/store.ts';
import { Collections } from '../store/store.ts';
import type { Experiment, StageInstance } from '../experiment/load.ts';
import { commitArtifact, loadArtifact, type Artifact, type ArtifactDraft } from './artifact.ts';
import { runStageInWorker } from './run-in-worker.ts';
import { cacheKey, explainChange, latestId, type CacheEntry, type KeyParts, type LatestEntry } from './cache-key.ts';
import { createStageContext } from './context.ts';
import { CpuShare } from './cpu-share.ts';
import type { InstanceStatus, ItemCounts, PipelineEvent } from './events.ts';
import { ExternalHasher } from './file-hash.ts';
import { StageInputError, type StageInput } from './stage.ts';

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
}

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
  /** Why it ran (or, in a dry run, will run). */
  reasons: string[];
}

/**
 * Runs a graph of instances: each starts once its inputs are done, up to `concurrency` at once; an
 * instance whose cache key (type, version, params, input artifact digests, external content) has a
 * committed artifact is reused. A failure skips what depends on it and, without keepGoing, stops new work.
 */
export async function execute(opts: ExecuteOptions): Promise<InstanceResult[]> {
  const { experiment, store, runId, emit, signal } = opts;
  const queue = new PQueue({ concurrency: Math.max(1, opts.concurrency) });
  const hasher = new ExternalHasher(store);
  const results = new Map<string, Promise<InstanceResult>>();
  let stopped = false;
  const byId = new Map(experiment.instances.map((i) => [i.id, i]));
  const artifacts = new Map<string, Artifact>();
  const isolated = (inst: StageInstance) => inst.type.isolate === 'worker' && (!opts.selected || opts.selected.has(inst.id));
  const cpuShare = new CpuShare(experiment.instances.filter(isolated).length, opts.concurrency);

  const settle = (inst: StageInstance, status: InstanceStatus, extra: Partial<InstanceResult> = {}): InstanceResult => {
    const result: InstanceResult = { id: inst.id, stage: inst.stage, uses: inst.uses, status, durationMs: 0, reasons: [], ...extra };
    if (!opts.dryRun || status !== 'ran') {
      emit({ type: 'instance-end', runId, instance: inst.id, stage: inst.stage, uses: inst.uses, params: inst.params, status, cacheKey: result.key, artifact: result.artifact, durationMs: result.durationMs, items: result.items, error: result.error, time: Date.now() });
    }
    return result;
  };

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
    const key = cacheKey(parts);
    const latestKey = latestId(experiment.name, inst.id);
    const previous = await store.getDoc<LatestEntry>(Collections.latest, latestKey);
    const forced = opts.force?.has(inst.id) ?? false;
    if (!forced) {
      const cached = await findCached(store, key);
      if (cached) {
        artifacts.set(inst.id, cached);
        if (!opts.dryRun) await store.putDoc(Collections.latest, latestKey, { key, parts, artifact: cached.digest, time: Date.now() } satisfies LatestEntry);
        return settle(inst, 'cached', { key, artifact: cached.digest, durationMs: Date.now() - started });
      }
    }
    const reasons = forced ? ['forced'] : explainChange(parts, previous?.parts, inst.inputs.map((i) => i.instance));
    if (opts.dryRun) return settle(inst, 'ran', { key, reasons });

    emit({ type: 'instance-start', runId, instance: inst.id, stage: inst.stage, uses: inst.uses, params: inst.params, cacheKey: key, time: Date.now() });
    const ctx = createStageContext({
      store,
      runId,
      instance: { id: inst.id, stage: inst.stage, uses: inst.uses, vars: inst.vars },
      stageVersion: inst.type.version,
      params: inst.params,
      baseDir: experiment.dir,
      signal,
      concurrency: opts.concurrency,
      forced,
      emit,
    });
    const inputs: StageInput[] = inst.inputs.map((input, n) => ({
      name: input.name,
      stage: input.stage,
      instance: input.instance,
      vars: byId.get(input.instance)!.vars,
      artifact: artifacts.get(upstream[n].id)!,
    }));
    // Item counts of a stage in a worker thread arrive as its progress events.
    let workerItems: ItemCounts | undefined;
    const itemCounts = () => ctx.items ?? workerItems;
    try {
      let draft: ArtifactDraft;
      let itemKeys: readonly string[] = ctx.itemKeys;
      if (inst.type.isolate === 'worker' && store.reopenLocation && process.env.PIPELINE_STAGE_WORKERS !== '0') {
        const data = { store: store.reopenLocation, uses: inst.uses, stageVersion: inst.type.version, params: inst.params, inputs, instance: ctx.instance, baseDir: experiment.dir, runId, concurrency: opts.concurrency, forced };
        const forward = (e: PipelineEvent) => {
          if (e.type === 'progress') workerItems = e.items;
          emit(e);
        };
        const threads = process.env.PIPELINE_WASM_THREADS || String(cpuShare.threadsForNext());
        const result = await runStageInWorker(data, forward, signal, { PIPELINE_WASM_THREADS: threads });
        [draft, itemKeys, workerItems] = [result.draft, result.itemKeys, result.items ?? workerItems];
      } else {
        draft = await inst.type.run(ctx, inputs, inst.params);
      }
      if (signal.aborted) throw signal.reason ?? new Error('cancelled');
      const artifact = await commitArtifact(store, draft);
      // The cache entry is written last: until it exists, nothing counts as done.
      const items = itemKeys.length ? await store.putBlob(itemKeys.join('\n')) : undefined;
      await store.putDoc(Collections.cache, key, { artifact: artifact.digest, uses: inst.uses, version: inst.type.version, items, time: Date.now() } satisfies CacheEntry);
      await store.putDoc(Collections.latest, latestKey, { key, parts, artifact: artifact.digest, time: Date.now() } satisfies LatestEntry);
      artifacts.set(inst.id, artifact);
      return settle(inst, 'ran', { key, artifact: artifact.digest, durationMs: Date.now() - started, items: itemCounts(), reasons });
    } catch (err) {
      if (signal.aborted) return settle(inst, 'cancelled', { key, durationMs: Date.now() - started, items: itemCounts(), reasons });
      const message = err instanceof Error ? err.message : String(err);
      if (!(err instanceof StageInputError) && err instanceof Error && err.stack) emit({ type: 'log', runId, instance: inst.id, level: 'debug', message: err.stack, time: Date.now() });
      if (!opts.keepGoing) stopped = true;
      const hint = err instanceof StageInputError && err.hint ? ` (hint: ${err.hint})` : '';
      return settle(inst, 'failed', { key, durationMs: Date.now() - started, items: itemCounts(), error: `stage ${inst.id} (${inst.uses}): ${message}${hint}`, reasons });
    } finally {
      await ctx.dispose();
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
        return (await queue.add(() => runInstance(inst, upstream))) as InstanceResult;
      })().finally(() => {
        if (isolated(inst)) cpuShare.settled();
      }),
    );
  }
  return Promise.all(results.values());
}

function notSelected(id: string): InstanceResult {
  return { id, stage: id, uses: '', status: 'skipped', durationMs: 0, reasons: ['not selected'] };
}

/** A cache hit counts only if its artifact and the blobs it names are all present. */
async function findCached(store: Store, key: string): Promise<Artifact | undefined> {
  const entry = await store.getDoc<CacheEntry>(Collections.cache, key);
  if (!entry) return undefined;
  const artifact = await loadArtifact(store, entry.artifact);
  if (!artifact) return undefined;
  for (const digest of [artifact.rows, ...Object.values(artifact.files)]) {
    if (digest && !(await store.hasBlob(digest))) return undefined;
  }
  return artifact;
}
