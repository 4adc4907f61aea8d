import type { EventSink, InstanceStatus, RunStatus } from './events.ts';
import type { StageExecutor } from './task.ts';
import type { KeyParts } from './cache-key.ts';
import type { ReadThrough } from './executor.ts';
import type { CpuShare } from './cpu-share.ts';
import type { ExternalHasher } from './file-hash.ts';
import type { Override } from '../experiment/overrides.ts';

/** Programmatic entry point options (the CLI's `pipeline run` and the scheduler both use it). */
export interface RunOptions {
  /** Path of the experiment YAML. */
  file: string;
  /** `-S` changes to the experiment (`pipeline schedule -S`), applied as `pipeline run -S` does. */
  overrides?: readonly Override[];
  /** Store location: a folder (default `<cwd>/.pipeline`) or a `mongodb://` URL. */
  store?: string;
  concurrency?: number;
  only?: string[];
  from?: string[];
  force?: string[];
  keepGoing?: boolean;
  /** Extra sinks (reporters); the run recorder and the tracker are added by the runner. */
  sinks?: EventSink[];
  signal?: AbortSignal;
  /** Where stage tasks run (default: this process). A QueueExecutor sends them to `pipeline worker`s; one executor may serve several runs. */
  executor?: StageExecutor;
  /** What several runs on one executor share (a sweep's variants): the cores of training stages, hashes of external files. */
  shared?: { cpuShare: CpuShare; hasher: ExternalHasher };
  /** The tracker to send events to (a sweep's variants share one session); default: one from the experiment's tracking config. */
  tracker?: EventSink;
  /** Fetches stage outputs missing from the store from a remote before running them (`run --remote`). */
  readThrough?: ReadThrough;
  /** The sweep this run is a variant of (recorded in the run record). */
  sweep?: { id: string; variant: string };
}

export interface RunResult {
  runId: string;
  status: RunStatus;
  instances: Array<{ id: string; stage: string; status: InstanceStatus; artifact?: string; durationMs: number; error?: string; inputError?: boolean; workers?: string[]; key?: string; parts?: KeyParts }>;
}
