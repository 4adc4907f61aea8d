import PQueue from 'p-queue';
import type { Store } from '../store/store.ts';
import type { CpuShare } from './cpu-share.ts';
import { runTask } from './run-task.ts';
import type { StageType } from './stage.ts';
import type { StageRegistry } from './stage-registry.ts';
import { NotAdmitted, type StageExecutor, type StageTask, type TaskIO, type TaskOutcome } from './task.ts';

export interface LocalExecutorOptions {
  store: Store;
  registry: StageRegistry;
  /** Tasks at once, and items at once within each. */
  concurrency: number;
  /** Cores shared among stages isolated in worker threads (training). */
  cpuShare?: CpuShare;
  /** Stage types already loaded, by `uses` (the experiment's). */
  types?: ReadonlyMap<string, StageType>;
}

/** Runs tasks in this process, up to `concurrency` at once; `isolate: worker` stages in their own worker thread. */
export class LocalExecutor implements StageExecutor {
  readonly description = 'local';
  readonly remote = false;
  private readonly queue: PQueue;

  constructor(private readonly opts: LocalExecutorOptions) {
    this.queue = new PQueue({ concurrency: Math.max(1, opts.concurrency) });
  }

  async run(task: StageTask, io: TaskIO): Promise<TaskOutcome> {
    return (await this.queue.add(async () => {
      if (io.signal.aborted) throw io.signal.reason ?? new Error('cancelled');
      if (!io.admit()) throw new NotAdmitted();
      io.started({ chunk: task.chunk });
      const { store, registry, concurrency, cpuShare } = this.opts;
      return runTask(task, { store, registry, concurrency, type: this.opts.types?.get(task.uses), threads: cpuShare && (() => cpuShare.threadsForNext()) }, io);
    })) as TaskOutcome;
  }

  async close(): Promise<void> {
    await this.queue.onIdle();
  }
}
