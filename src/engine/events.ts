/** Typed events the engine emits; reporters, the run record and trackers subscribe to them. */

export type InstanceStatus = 'pending' | 'running' | 'ran' | 'cached' | 'failed' | 'skipped' | 'cancelled';
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ItemCounts {
  done: number;
  total: number;
  cached: number;
  failed: number;
}

export type PipelineEvent =
  | { type: 'run-start'; runId: string; experiment: string; file: string; instances: string[]; params: Record<string, unknown>; overrides?: string[]; time: number }
  | { type: 'instance-start'; runId: string; instance: string; stage: string; uses: string; params: unknown; cacheKey: string; worker?: string; time: number }
  | { type: 'progress'; runId: string; instance: string; items: ItemCounts; time: number }
  | { type: 'log'; runId: string; instance?: string; level: LogLevel; message: string; time: number }
  | { type: 'metric'; runId: string; instance: string; name: string; value: number; step?: number; time: number }
  | {
      type: 'instance-end';
      runId: string;
      instance: string;
      stage: string;
      uses: string;
      params: unknown;
      status: InstanceStatus;
      cacheKey?: string;
      artifact?: string;
      durationMs: number;
      items?: ItemCounts;
      error?: string;
      /** The `pipeline worker`s that ran it (queue executor). */
      workers?: string[];
      time: number;
    }
  | { type: 'run-end'; runId: string; status: RunStatus; durationMs: number; time: number };

/** Anything that wants events: terminal reporters, the run recorder, trackers. */
export interface EventSink {
  handle(event: PipelineEvent): void | Promise<void>;
  /** Called once at the end of a run; flush buffers here. */
  close?(): void | Promise<void>;
}

export type EventOf<T extends PipelineEvent['type']> = Extract<PipelineEvent, { type: T }>;
