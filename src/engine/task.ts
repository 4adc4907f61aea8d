import type { ItemCounts, PipelineEvent } from './events.ts';

/** One upstream output of a task, by digest (the artifact manifest is read from the store). */
export interface TaskInput {
  name: string;
  stage: string;
  instance: string;
  vars: Record<string, unknown>;
  artifact: string;
}

/** A slice of a per-item stage's items: the `index`-th of `count` equal parts. */
export interface ChunkSpec {
  index: number;
  count: number;
}

/**
 * "Run this stage instance (or this chunk of its items) against this store": everything an executor
 * needs, as plain JSON. It names stage code (`uses`, version, module hash) and data (digests, params)
 * but carries neither: whoever runs it loads the stage from its own checkout and the data from the store.
 */
export interface StageTask {
  /** The instance's cache key. */
  key: string;
  runId: string;
  instance: { id: string; stage: string; uses: string; vars: Record<string, unknown> };
  uses: string;
  stageVersion: number | string;
  /** sha256 of a user stage module's source. */
  codeHash?: string;
  params: unknown;
  inputs: TaskInput[];
  /** Content digests of the files outside the store that the stage reads, by param. */
  external: Record<string, string>;
  /** Folder of the experiment file: relative paths in params resolve against it. */
  baseDir: string;
  forced: boolean;
  chunk?: ChunkSpec;
  /** About how many items a per-item stage will see (inputs' rows or files), for chunking. */
  itemsHint?: number;
  /** Resource class the stage requires (`resources:`/`queue:`). */
  resource?: string;
  /** Resource class the stage type runs best on (train: gpu), used when a worker offers it. */
  prefers?: string;
  /** The stage does its work in one `eachItem` call: its items may be split into chunks. */
  perItem?: boolean;
  /** The chunks of this run computed the items already: a forced task reads them from the item cache. */
  itemsDone?: boolean;
}

export interface TaskOutcome {
  /** The committed artifact (absent for a chunk). */
  artifact?: string;
  /** The item counts of the run (for a chunk: of its slice). */
  items?: ItemCounts;
  /** It was already in the cache when the executor looked (nothing ran). */
  cached?: boolean;
  /** Where it ran (`pipeline worker` names; absent locally). */
  workers?: string[];
}

export interface TaskIO {
  emit(event: PipelineEvent): void;
  signal: AbortSignal;
  /** Asked right before work starts: false means no new work may start (an earlier stage failed). */
  admit(): boolean;
  /** The work started (a slot opened, or a worker took a job). */
  started(where: { worker?: string; chunk?: ChunkSpec }): void;
}

/** The task was not started because `admit()` said no. */
export class NotAdmitted extends Error {
  constructor() {
    super('not started: an earlier stage failed');
    this.name = 'NotAdmitted';
  }
}

/** Runs stage tasks: in this process (LocalExecutor) or on `pipeline worker`s through a queue. */
export interface StageExecutor {
  /** `local` or a description such as `queue redis://host:6379/0` (no password). */
  readonly description: string;
  /** Whether the per-stage item concurrency of the coordinator applies (local) or the workers' own. */
  readonly remote: boolean;
  run(task: StageTask, io: TaskIO): Promise<TaskOutcome>;
  close(): Promise<void>;
}
