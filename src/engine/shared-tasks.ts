import type { StageExecutor, StageTask, TaskIO, TaskOutcome } from './task.ts';

/**
 * An executor for several runs at once (a sweep's variants): a task whose cache key (and chunk) is
 * already running for another run is not started again; the later run waits for the same outcome
 * and sees it as cached. So stages that do not depend on the swept values are computed once, not
 * raced, and every run still goes through the one executor (its concurrency is shared, not multiplied).
 */
export class SharedTasks implements StageExecutor {
  private readonly running = new Map<string, Promise<TaskOutcome>>();  // started or succeeded, by key (+ chunk)
  /** Tasks that another run had started already: computed once, reused here. */
  shared = 0;

  constructor(private readonly inner: StageExecutor) {}

  get description(): string {
    return this.inner.description;
  }

  get remote(): boolean {
    return this.inner.remote;
  }

  async run(task: StageTask, io: TaskIO): Promise<TaskOutcome> {
    const id = task.chunk ? `${task.key}#${task.chunk.index}/${task.chunk.count}` : task.key;
    const first = this.running.get(id);
    if (first) {
      this.shared++;
      const outcome = await first;
      return { ...outcome, cached: true };
    }
    const work = this.inner.run(task, io);
    this.running.set(id, work);
    // A success stays (a run that missed the cache a moment before it was committed reuses it, even
    // for a forced task); after a failure another run may try again.
    work.catch(() => this.running.delete(id));
    return work;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
