/**
 * The pool policy of a long-lived session, re-decided while it runs (a training's step session lives for a
 * whole fold; another job may start or stop on the machine meanwhile). ONNX Runtime reads
 * `session.intra_op.allow_spinning` once, when the session builds its thread pool, so a change means a
 * new session over the same graph (the trainer's state is fed as inputs each step: nothing is lost).
 */
import { availableParallelism } from 'node:os';
import { FreeCpuMeter, ortPoolSpin, poolSpin, spinWhenFree, type OrtSpinMode, type PoolSpin } from './pool-spin.ts';

/**
 * Consecutive samples that must call for the other setting before it changes: one window with another
 * job in it (a short compile, a checkpoint upload elsewhere) is no reason to pay for a new session.
 */
export const RESPIN_AFTER = 2;

/**
 * Whether the pool spins after `samples` (free CPUs, oldest first, taken since the setting last changed):
 * the other setting only when each of the last RESPIN_AFTER samples calls for it (`spinWhenFree`).
 */
export function respinDecision(spinning: boolean, samples: readonly number[], threads: number): boolean {
  const last = samples.slice(-RESPIN_AFTER);
  return last.length === RESPIN_AFTER && last.every((free) => spinWhenFree(free, threads) !== spinning) ? !spinning : spinning;
}

/**
 * One pool policy over time, shared by the sessions that should wait alike (f-AnoGAN's two step sessions).
 * In `auto` every sample covers the time since the previous one (`FreeCpuMeter`: the first, at least
 * 100 ms from construction, overlaps the session's setup; the next ones cover whole epochs and cost a
 * read of the CPU counters, no wait). `on` / `off` and one-thread pools never sample again.
 */
export class PoolSpinGovernor {
  private decided: Promise<PoolSpin | undefined> | undefined;
  private spinning: boolean | undefined;
  private samples: number[] = [];

  constructor(
    readonly threads: number,
    readonly mode: OrtSpinMode,
    private readonly sample: () => Promise<number> = meterSampler(),
  ) {}

  /** The policy for a new session: sampled on the first call (auto), the current one after. */
  current(): Promise<PoolSpin | undefined> {
    this.decided ??= ortPoolSpin(this.threads, this.mode, this.sample).then((pool) => {
      this.spinning = pool?.spinning;
      return pool;
    });
    return this.decided;
  }

  /** Samples again (auto, more than one thread) and gives the new policy when it changes (`respinDecision`), else undefined. */
  async recheck(): Promise<PoolSpin | undefined> {
    const pool = await this.current();
    if (!pool || this.mode !== 'auto' || this.spinning === undefined) return undefined;
    this.samples.push(await this.sample());
    if (respinDecision(this.spinning, this.samples, this.threads) === this.spinning) return undefined;
    const why = this.samples.slice(-RESPIN_AFTER).map((free) => free.toFixed(1));
    this.spinning = !this.spinning;
    this.samples = [];
    this.decided = Promise.resolve(poolSpin(this.spinning, `${why.join(', then ')} of ${availableParallelism()} CPUs free`));
    return this.decided;
  }
}

function meterSampler(): () => Promise<number> {
  const meter = new FreeCpuMeter();
  return () => meter.next();
}
