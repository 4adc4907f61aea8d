/**
 * Whether an ONNX Runtime session's intra-op pool threads spin or sleep between operations
 * (`PIPELINE_ORT_SPIN=auto|on|off`, default auto). A training step is ~2,000 short nodes; a sleeping
 * worker is woken for each, a spinning one picks the next up at once, so spinning trains faster when
 * every pool thread has a core of its own, and slower when another job needs one of those cores (the
 * spinning thread takes its time slices). `auto` samples how many CPUs are free when the session is
 * created and spins only when they cover the pool's threads (a training samples again at each epoch:
 * pool-respin.ts). Only the threads' waiting changes, never
 * the arithmetic: results are bit-identical either way.
 */
import { availableParallelism, cpus } from 'node:os';
import { z } from 'zod';
import type { OrtSessionOptions } from './runtime.ts';

export const ORT_SPIN_ENV = 'PIPELINE_ORT_SPIN';

const spinMode = z.enum(['auto', 'on', 'off']);
export type OrtSpinMode = z.output<typeof spinMode>;

/**
 * How long a worker spins after its last task before it sleeps. ResNet-18 128 px step, 2 threads, idle
 * machine, median ms per step of three processes each (bench/results/train.md, round 6): sleeping 507-517,
 * 50 us 494-513, 100 us 490-531, 250 us 506-537, 1000 us 510-807, CPU per step rising with the duration.
 * Bounded, so a pool left idle between steps (data loading, validation) stops taking its cores at once.
 */
export const SPIN_DURATION_US = 100;

/**
 * CPUs the pool may lack and still spin: the sample's resolution (10 ms ticks over >= 100 ms per CPU: 0.1 CPU)
 * plus the few per cent a quiet machine's housekeeping takes. A job holding a core leaves ~1 free of 2.
 */
export const SPIN_FREE_SLACK = 0.25;

/** The spin mode from `PIPELINE_ORT_SPIN` (unset or empty: auto); a clear error naming the variable otherwise. */
export function ortSpinMode(env: NodeJS.ProcessEnv = process.env): OrtSpinMode {
  const value = env[ORT_SPIN_ENV];
  if (value === undefined || value === '') return 'auto';
  const parsed = spinMode.safeParse(value.trim().toLowerCase());
  if (!parsed.success) throw new Error(`${ORT_SPIN_ENV} must be auto, on or off, got ${JSON.stringify(value)}`);
  return parsed.data;
}

/** auto's rule: spin when the free CPUs cover the pool's threads (within SPIN_FREE_SLACK). */
export function spinWhenFree(freeCpus: number, threads: number): boolean {
  return threads > 1 && freeCpus >= threads - SPIN_FREE_SLACK;
}

/**
 * CPUs not used by other processes over a window of at least `windowMs`: idle time plus this process's
 * own CPU time, over all CPUs, capped at the CPUs this process may use. Counting our own time as free
 * lets the sample overlap the session's setup (graph building, export), which runs on this process's
 * main thread; the pool does not run while the session is being created. The whole process, not just
 * the calling thread: counting only the thread's own time (/proc/thread-self/stat) chose sleeping on
 * an idle machine (1.2-1.6 of 2 CPUs free right after building a large graph or releasing a trainer;
 * this process's other threads, V8's garbage collector most likely; bench/results/train.md round 6).
 * The price: another stage running in this process at the same time counts as free. Sampled rather
 * than read from os.loadavg(), whose 1-minute average still shows a job that stopped a minute ago and
 * hardly shows one that started 10 s ago.
 */
export function sampleFreeCpus(windowMs = 100): Promise<number> {
  return new FreeCpuMeter().next(windowMs);
}

/** The machine's CPU tick counters and this process's CPU time at one moment (~50 us to read here). */
interface CpuReading {
  at: number;
  count: number;
  idle: number;
  total: number;
  ownMs: number;
}

function cpuReading(): CpuReading {
  const all = cpus();
  let idle = 0;
  let total = 0;
  for (const { times } of all) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { at: performance.now(), count: all.length, idle, total, ownMs: ownCpuMs() };
}

/**
 * Free CPUs over consecutive windows (as `sampleFreeCpus`), each from the previous reading to now, so
 * that a training can ask at every epoch start what the last epoch left free without waiting: only a
 * window shorter than `minMs` (the counters' 10 ms ticks) is waited out.
 */
export class FreeCpuMeter {
  private last = cpuReading();

  async next(minMs = 100): Promise<number> {
    const wait = this.last.at + minMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const now = cpuReading();
    const total = now.total - this.last.total;
    const free = (now.count * (now.idle - this.last.idle + now.ownMs - this.last.ownMs)) / total;
    this.last = now;
    return total > 0 ? Math.min(availableParallelism(), Math.max(0, free)) : availableParallelism();
  }
}

function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export interface PoolSpin {
  spinning: boolean;
  /** For the engine's log line: "spinning (1.9 of 2 CPUs free)", "sleeping (PIPELINE_ORT_SPIN=off)". */
  reason: string;
  /** ONNX Runtime session config entries (OrtSessionOptions.extra). */
  config: { session: { intra_op: Record<string, string> } };
}

/**
 * The pool policy of a session with `threads` intra-op threads, or undefined for one thread (the pool
 * has no worker to wait). Start it before the session's setup work and await it just before creating
 * the session, so that the sample costs no time of its own.
 */
export async function ortPoolSpin(threads: number, mode: OrtSpinMode, freeCpus: () => Promise<number> = sampleFreeCpus): Promise<PoolSpin | undefined> {
  if (threads <= 1) return undefined;
  if (mode !== 'auto') return poolSpin(mode === 'on', `${ORT_SPIN_ENV}=${mode}`);
  const free = await freeCpus();
  return poolSpin(spinWhenFree(free, threads), `${free.toFixed(1)} of ${availableParallelism()} CPUs free`);
}

/** The policy `spinning` or not, with its reason (`why`) for the log. */
export function poolSpin(spinning: boolean, why: string): PoolSpin {
  const intraOp: Record<string, string> = spinning ? { allow_spinning: '1', spin_duration_us: String(SPIN_DURATION_US) } : { allow_spinning: '0' };
  return { spinning, reason: `${spinning ? 'spinning' : 'sleeping'} (${why})`, config: { session: { intra_op: intraOp } } };
}

/** The options of every ONNX Runtime session we create, training and inference: `threads` in a sequential pool that waits as `pool` says. */
export function ortSessionOptions(threads: number, pool: PoolSpin | undefined): OrtSessionOptions {
  return {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    executionMode: 'sequential',
    ...(pool && { extra: pool.config }), // the binding rejects extra: undefined
  };
}
