import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import PQueue from 'p-queue';
import type { Store } from '../store/store.ts';
import { Collections } from '../store/store.ts';
import { fingerprint } from '../util/hash.ts';
import { errorText } from '../util/error-text.ts';
import { readArtifactFile, readRows } from './artifact.ts';
import type { ItemCounts, LogLevel, PipelineEvent } from './events.ts';
import type { ItemOptions, ItemOutcome, StageContext } from './stage.ts';
import type { ChunkSpec } from './task.ts';

export interface ContextOptions {
  store: Store;
  runId: string;
  instance: { id: string; stage: string; uses: string; vars: Record<string, unknown> };
  stageVersion: number | string;
  params: unknown;
  baseDir: string;
  signal: AbortSignal;
  concurrency: number;
  forced?: boolean;
  /**
   * Chunk mode (a queue splits a per-item stage among workers): the first `eachItem` call processes
   * only this slice of its items, commits them to the item cache and ends the stage with ChunkDone.
   */
  chunk?: ChunkSpec;
  emit(event: PipelineEvent): void;
}

/** Ends a stage run in chunk mode once its slice of items is in the item cache. */
export class ChunkDone extends Error {
  constructor(readonly items: ItemCounts) {
    super('chunk done');
    this.name = 'ChunkDone';
  }
}

/** The indexes of the `index`-th of `count` equal slices of `n` items. */
export function chunkRange(n: number, chunk: ChunkSpec): [from: number, to: number] {
  return [Math.floor((n * chunk.index) / chunk.count), Math.floor((n * (chunk.index + 1)) / chunk.count)];
}

export interface ManagedContext extends StageContext {
  /** Item counts so far (for the summary), and cleanup of scratch space. */
  readonly items: ItemCounts | undefined;
  /** Keys of every item-cache entry this stage used (so `gc` keeps them while the output is live). */
  readonly itemKeys: readonly string[];
  dispose(): Promise<void>;
}

const PROGRESS_INTERVAL_MS = 200;

const sameCounts = (a: ItemCounts, b: ItemCounts) => a.done === b.done && a.total === b.total && a.cached === b.cached && a.failed === b.failed;

/** The `ctx` a stage runs with. The executor and the test harness both build it here. */
export function createStageContext(opts: ContextOptions): ManagedContext {
  const { store, runId, instance, emit, signal } = opts;
  let scratch: string | undefined;
  let items: ItemCounts | undefined;
  const itemKeys: string[] = [];
  let lastProgress = 0;
  let lastSent: ItemCounts | undefined;

  const emitLog = (level: LogLevel, message: string) => emit({ type: 'log', runId, instance: instance.id, level, message, time: Date.now() });

  // `force` skips the time throttle, not the repeat check: a forced report of the counts already sent
  // (eachItem's closing report after its last item's, a stage's final progress call) is no news.
  const reportProgress = (counts: ItemCounts, force = false) => {
    items = counts;
    const now = Date.now();
    if (!force && now - lastProgress < PROGRESS_INTERVAL_MS) return;
    if (lastSent && sameCounts(lastSent, counts)) return;
    lastProgress = now;
    lastSent = { ...counts };
    emit({ type: 'progress', runId, instance: instance.id, items: { ...counts }, time: now });
  };

  const ctx: ManagedContext = {
    store,
    instance,
    baseDir: opts.baseDir,
    resolvePath: (p) => (isAbsolute(p) ? p : resolve(opts.baseDir, p)),
    signal,
    concurrency: opts.concurrency,
    forced: opts.forced ?? false,
    log: {
      debug: (m) => emitLog('debug', m),
      info: (m) => emitLog('info', m),
      warn: (m) => emitLog('warn', m),
      error: (m) => emitLog('error', m),
    },
    get items() {
      return items;
    },
    itemKeys,
    async scratchDir() {
      scratch ??= await mkdtemp(join(tmpdir(), 'pipeline-scratch-'));
      return scratch;
    },
    progress(counts) {
      reportProgress({ cached: 0, failed: 0, ...counts }, counts.done === counts.total);
    },
    metric(name, value, step) {
      emit({ type: 'metric', runId, instance: instance.id, name, value, step, time: Date.now() });
    },
    emitLog,
    readRows: (artifact) => readRows(store, artifact),
    readFile: (artifact, name) => readArtifactFile(store, artifact, name),
    eachItem: (list, options, fn) => runItems(list, options, fn),
    async dispose() {
      if (scratch) await rm(scratch, { recursive: true, force: true });
    },
  };

  async function runItems<I, O>(list: readonly I[], options: ItemOptions<I>, fn: (item: I, index: number) => Promise<O>): Promise<ItemOutcome<O>[]> {
    const [from, to] = opts.chunk ? chunkRange(list.length, opts.chunk) : [0, list.length];
    const counts: ItemCounts = { done: 0, total: to - from, cached: 0, failed: 0 };
    const itemParams = options.params === undefined ? opts.params : options.params;
    const base = { uses: instance.uses, version: opts.stageVersion, params: itemParams };
    const queue = new PQueue({ concurrency: Math.max(1, options.concurrency ?? opts.concurrency) });
    const outcomes: ItemOutcome<O>[] = new Array(list.length);
    const onError = options.onError ?? 'fail';
    let firstError: Error | undefined;
    reportProgress(counts, true);

    const one = async (item: I, index: number) => {
      if (signal.aborted || firstError) return;
      const id = options.id ? options.id(item) : String(index);
      const itemKey = fingerprint({ ...base, item: options.key(item) });
      itemKeys.push(itemKey);
      const hit = opts.forced ? undefined : await store.getDoc<{ value: O }>(Collections.items, itemKey);
      if (hit) {
        outcomes[index] = { ok: true, value: hit.value, cached: true, id };
        counts.cached++;
      } else {
        try {
          const value = await fn(item, index);
          await store.putDoc(Collections.items, itemKey, { value });
          outcomes[index] = { ok: true, value, cached: false, id };
        } catch (err) {
          if (signal.aborted) return;
          const message = errorText(err);
          outcomes[index] = { ok: false, error: message, id };
          counts.failed++;
          if (onError === 'fail') firstError ??= new Error(`item ${id}: ${message}`);
          else emitLog('warn', `skipped item ${id}: ${message}`);
        }
      }
      counts.done++;
      reportProgress(counts);
    };

    for (let index = from; index < to; index++) void queue.add(() => one(list[index], index));
    await queue.onIdle();
    reportProgress(counts, true);
    if (signal.aborted) throw signal.reason ?? new Error('cancelled');
    if (firstError) throw firstError;
    if (opts.chunk) throw new ChunkDone({ ...counts });
    return outcomes;
  }

  return ctx;
}
