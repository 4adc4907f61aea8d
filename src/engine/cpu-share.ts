import { availableParallelism } from 'node:os';

/**
 * Splits the cores among the stages that run in their own worker thread (training), so that each sets
 * its wasm thread pool to its share: two folds training side by side get one thread each, a fold
 * training alone gets every core. Oversubscribing (two pools of two threads on two cores) makes both
 * slower than one thread each, because the pools' threads wait for each other at every operation.
 */
export class CpuShare {
  private remaining: number;

  constructor(
    isolatedInstances: number,
    private readonly concurrency: number,
    private readonly cores = availableParallelism(),
  ) {
    this.remaining = isolatedInstances;
  }

  /** Threads for an isolated stage starting now: cores / the isolated stages that can run alongside it. */
  threadsForNext(): number {
    const sharing = Math.max(1, Math.min(this.concurrency, this.remaining));
    return Math.max(1, Math.floor(this.cores / sharing));
  }

  /** An isolated stage settled (ran, cached, failed or skipped). */
  settled(): void {
    this.remaining = Math.max(0, this.remaining - 1);
  }
}
