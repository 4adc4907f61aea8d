import type { Store } from '../store/store.ts';
import { Collections } from '../store/store.ts';
import { commitArtifact, loadArtifact, missingBlobs, type Artifact, type ArtifactDraft } from './artifact.ts';
import type { CacheEntry } from './cache-key.ts';
import { ChunkDone, createStageContext } from './context.ts';
import type { ItemCounts } from './events.ts';
import { runStageInWorker } from './run-in-worker.ts';
import type { StageInput, StageType } from './stage.ts';
import { StageCodeMismatch, type StageRegistry } from './stage-registry.ts';
import type { StageTask, TaskIO, TaskOutcome } from './task.ts';

export interface TaskEnv {
  store: Store;
  registry: StageRegistry;
  /** Items at once within the stage (and the size of its worker pools). */
  concurrency: number;
  /** The stage type when the caller holds it already (local runs); else resolved through the registry. */
  type?: StageType;
  /** wasm threads for a stage isolated in its own worker thread (its share of the cores). */
  threads?(): number;
}

/**
 * The one code path that runs a stage task, locally and on `pipeline worker`s: resolve the stage,
 * reuse a committed output of the same key, else run the stage and commit blobs, then the artifact
 * manifest, then (last) the cache entry, so that nothing half-written ever counts as done. A chunk
 * only fills the item cache of its slice and commits no artifact.
 */
export async function runTask(task: StageTask, env: TaskEnv, io: Pick<TaskIO, 'emit' | 'signal'>): Promise<TaskOutcome> {
  const { store } = env;
  const type = env.type ?? (await resolveTaskStage(task, env.registry));
  if (!task.forced) {
    const cached = await findCached(store, task.key);
    if (cached) return { artifact: cached.digest, cached: true };
  }
  const inputs = await loadInputs(store, task);
  // The stage's warnings (skipped files...) go into its cache entry, replayed on a cache hit.
  const warnings: string[] = [];
  const emit: TaskIO['emit'] = (e) => {
    if (e.type === 'log' && e.level === 'warn' && e.instance === task.instance.id) warnings.push(e.message);
    io.emit(e);
  };
  const ctx = createStageContext({
    store,
    runId: task.runId,
    instance: task.instance,
    stageVersion: task.stageVersion,
    params: task.params,
    baseDir: task.baseDir,
    signal: io.signal,
    concurrency: env.concurrency,
    forced: task.forced && !task.itemsDone,
    chunk: task.chunk,
    emit,
  });
  // Item counts of a stage in a worker thread arrive as its progress events.
  let workerItems: ItemCounts | undefined;
  try {
    let draft: ArtifactDraft;
    let itemKeys: readonly string[] = ctx.itemKeys;
    const isolate = type.isolate === 'worker' && !task.chunk && store.reopenLocation && process.env.PIPELINE_STAGE_WORKERS !== '0';
    if (isolate) {
      const data = { store: store.reopenLocation!, registry: env.registry.moduleUrl, uses: task.uses, codeHash: task.codeHash, stageVersion: task.stageVersion, params: task.params, inputs, instance: task.instance, baseDir: task.baseDir, runId: task.runId, concurrency: env.concurrency, forced: task.forced };
      const forward: TaskIO['emit'] = (e) => {
        if (e.type === 'progress') workerItems = e.items;
        emit(e);
      };
      const threads = process.env.PIPELINE_WASM_THREADS || String(env.threads?.() ?? 1);
      const result = await runStageInWorker(data, forward, io.signal, { PIPELINE_WASM_THREADS: threads });
      [draft, itemKeys, workerItems] = [result.draft, result.itemKeys, result.items ?? workerItems];
    } else {
      try {
        draft = await type.run(ctx, inputs, task.params);
      } catch (err) {
        if (err instanceof ChunkDone) return { items: err.items };
        throw err;
      }
    }
    if (io.signal.aborted) throw io.signal.reason ?? new Error('cancelled');
    // A chunk of a stage that never called eachItem has nothing to warm; the whole run does the work.
    if (task.chunk) return { items: { done: 0, total: 0, cached: 0, failed: 0 } };
    const artifact = await commitArtifact(store, draft);
    const items = itemKeys.length ? await store.putBlob(itemKeys.join('\n')) : undefined;
    const entry: CacheEntry = { artifact: artifact.digest, uses: task.uses, version: task.stageVersion, items, ...(warnings.length ? { warnings: { total: warnings.length, first: warnings.slice(0, REPLAYED_WARNINGS) } } : {}), time: Date.now() };
    await store.putDoc(Collections.cache, task.key, entry);
    return { artifact: artifact.digest, items: ctx.items ?? workerItems };
  } finally {
    await ctx.dispose();
  }
}

/** How many of a stage's warnings its cache entry keeps for replaying. */
const REPLAYED_WARNINGS = 10;

/**
 * A cached output still says what went wrong when it was made (skipped files...), as a compiler cache
 * replays its warnings: a rerun that does no work must not look cleaner than the run that did.
 */
export async function replayWarnings(store: Store, key: string, warn: (message: string) => void): Promise<void> {
  const warnings = (await store.getDoc<CacheEntry>(Collections.cache, key))?.warnings;
  if (!warnings?.total) return;
  const more = warnings.total > warnings.first.length ? ` (the first ${warnings.first.length})` : '';
  warn(`cached output: ${warnings.total === 1 ? '1 warning' : `${warnings.total} warnings`} when it was made${more}:`);
  for (const message of warnings.first) warn(`  ${message}`);
}

/** The stage type a task names, from this checkout; refuses (StageCodeMismatch) if its version differs. */
export async function resolveTaskStage(task: Pick<StageTask, 'uses' | 'baseDir' | 'codeHash' | 'stageVersion'>, registry: StageRegistry): Promise<StageType> {
  const { type } = await registry.resolve(task.uses, task.baseDir, task.codeHash);
  if (String(type.version) !== String(task.stageVersion)) {
    throw new StageCodeMismatch(`stage ${task.uses} is version ${type.version} here, the run was planned with version ${task.stageVersion}`);
  }
  return type;
}

async function loadInputs(store: Store, task: StageTask): Promise<StageInput[]> {
  return Promise.all(
    task.inputs.map(async (input) => {
      const artifact = await loadArtifact(store, input.artifact);
      if (!artifact) throw new Error(`input ${input.instance}: artifact ${input.artifact.slice(0, 12)} is not in the store at ${store.location}`);
      return { name: input.name, stage: input.stage, instance: input.instance, vars: input.vars, artifact };
    }),
  );
}

/** A cache hit counts only if its artifact and the blobs it names are all present. */
export async function findCached(store: Store, key: string): Promise<Artifact | undefined> {
  const entry = await store.getDoc<CacheEntry>(Collections.cache, key);
  if (!entry) return undefined;
  const artifact = await loadArtifact(store, entry.artifact);
  return artifact && (await missingBlobs(store, artifact)).length === 0 ? artifact : undefined;
}
