import type { z } from 'zod';
import type { Store } from '../store/store.ts';
import type { Artifact, ArtifactDraft } from './artifact.ts';
import type { DatasetRow } from '../data-model.ts';
import type { ItemCounts, LogLevel } from './events.ts';

/**
 * The contract of a stage type: built-in ones in `src/stages/<name>.ts`, users' in their own modules
 * (`uses: ./stages/my-filter.ts`, whose default export or `stage` export is a StageType).
 */
export interface StageType<P = any> {
  /** The name used in `uses:` (kebab-case). */
  name: string;
  /** Bump when the stage's output for the same inputs and params changes; it joins the cache key. */
  version: number | string;
  description: string;
  /** Schema of the `with:` block. Defaults live here so that the cache key sees resolved params. */
  params: z.ZodType<P>;
  /** How many `from:` inputs the stage takes (default: min 1, no max). Sources say `{ min: 0, max: 0 }`. */
  inputs?: { min?: number; max?: number };
  /**
   * Files or folders outside the store that the stage reads (e.g. a DICOM folder, a labels CSV). The
   * engine checks they exist (a located error names the param otherwise) and keys the cache on their
   * content. `param` is the dotted path under `with:` that named the path.
   */
  externalPaths?(params: P): ExternalPath[];
  /**
   * Values from outside the params that change the output, such as a salt read from an environment
   * variable: name -> a keyed hash of the value (never the value: it is stored with the cache key).
   * They join the cache key, so changing the variable reruns the stage.
   */
  environmentKey?(params: P): Record<string, string>;
  /**
   * `worker`: run each instance in its own worker thread. For CPU-bound JavaScript/wasm work (training):
   * instances running at the same time then use separate cores instead of sharing the main thread.
   * Set PIPELINE_STAGE_WORKERS=0 to run everything in the main thread (e.g. to debug).
   */
  isolate?: 'main' | 'worker';
  /**
   * The stage does its work in one `ctx.eachItem` call over its items (ingest, convert, preprocess):
   * with a queue, its items are split into chunks that several workers run at once (each fills the
   * per-item cache), then one more run assembles the output from the cache.
   */
  perItem?: boolean;
  /** Resource class the stage runs best on with a queue (train: `gpu`): used when a connected worker offers it. */
  prefers?: string;
  run(ctx: StageContext, inputs: StageInput[], params: P): Promise<ArtifactDraft>;
}

export interface ExternalPath {
  param: string;
  /** As written by the user; resolved against the experiment file's folder. */
  path: string;
  /** Optional: a folder is hashed recursively; `glob` restricts which files under it count (e.g. `**\/*.dcm`). */
  glob?: string;
  optional?: boolean;
}

/** An upstream artifact as a stage sees it. */
export interface StageInput {
  /** The input's name: the key in `from: {name: stage}`, else the upstream stage id. */
  name: string;
  /** Upstream stage id and instance id (`train` and `train[fold=2]`). */
  stage: string;
  instance: string;
  /** The upstream instance's foreach values, e.g. `{ fold: 2 }`. */
  vars: Record<string, unknown>;
  artifact: Artifact;
}

export interface ItemOptions<I> {
  /** The item's input identity, e.g. `{ dicom: row.dicom }`: with the stage type, version and `params` it keys the item cache. */
  key(item: I): unknown;
  /** The params that change each item's result (default: all of the stage's params). */
  params?: unknown;
  /** A readable id for progress and errors (an image id, a file path). */
  id?(item: I): string;
  /** `skip` records the failure, counts it and goes on; `fail` (default) fails the stage. */
  onError?: 'fail' | 'skip';
  /** Items processed at once (default: the run's concurrency). */
  concurrency?: number;
}

export type ItemOutcome<O> =
  | { ok: true; value: O; cached: boolean; id: string }
  | { ok: false; error: string; id: string };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface StageContext {
  store: Store;
  instance: { id: string; stage: string; uses: string; vars: Record<string, unknown> };
  /** Folder of the experiment file; relative paths in params resolve against it. */
  baseDir: string;
  resolvePath(path: string): string;
  signal: AbortSignal;
  log: Logger;
  /** Items at once for this stage; stages also use it to size worker pools. */
  concurrency: number;
  /**
   * The user forced this instance (`--force`, `--from`): recompute everything. `eachItem` then ignores
   * cached items (and refreshes them); stages with their own resume state (checkpoints) start afresh.
   */
  forced: boolean;
  /** A private folder, created on first use and removed after the stage. */
  scratchDir(): Promise<string>;
  /**
   * Runs `fn` over items with a per-item cache: an item whose key, params, stage type and version were
   * seen before returns its stored result without running. Results are committed one by one, so a
   * killed run keeps its finished items. Results must be JSON; put bytes in the store and return digests.
   */
  eachItem<I, O>(items: readonly I[], options: ItemOptions<I>, fn: (item: I, index: number) => Promise<O>): Promise<ItemOutcome<O>[]>;
  /** Reports progress of work that is not `eachItem` (e.g. epochs). */
  progress(counts: Partial<ItemCounts> & { done: number; total: number }): void;
  /** A metric for trackers (per-epoch with `step`). */
  metric(name: string, value: number, step?: number): void;
  readRows<T = DatasetRow>(artifact: Artifact): Promise<T[]>;
  readFile(artifact: Artifact, name: string): Promise<Buffer>;
  emitLog(level: LogLevel, message: string): void;
}

/** Identity helper giving a stage definition full type inference from its zod schema. */
export function defineStage<S extends z.ZodType>(def: Omit<StageType<z.output<S>>, 'params'> & { params: S }): StageType<z.output<S>> {
  return def as unknown as StageType<z.output<S>>;
}

/**
 * A `run` that imports its implementation module on first use, so that loading an experiment (and the
 * CLI's start-up) does not pay for heavy libraries such as TensorFlow.js. The module exports `run`.
 */
export function lazyRun<P>(load: () => Promise<{ run: (ctx: StageContext, inputs: StageInput[], params: P) => Promise<ArtifactDraft> }>): StageType<P>['run'] {
  return async (ctx, inputs, params) => (await load()).run(ctx, inputs, params);
}

const STAGE_INPUT_ERROR = Symbol.for('medpipe.StageInputError');

/** Raised by stages for bad input that is the user's to fix; shown without a stack trace. */
export class StageInputError extends Error {
  readonly [STAGE_INPUT_ERROR] = true;
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'StageInputError';
  }

  /**
   * `instanceof` holds for one thrown by another copy of this module too: a user's TypeScript stage
   * imports `@medpipe/pipeline` from the sources while the compiled CLI runs its own build of them.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[STAGE_INPUT_ERROR] === true;
  }
}
