import { hostname, availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Store } from '../store/store.ts';
import type { LogLevel, PipelineEvent } from '../engine/events.ts';
import { ExternalHasher } from '../engine/file-hash.ts';
import { resolveTaskStage, runTask } from '../engine/run-task.ts';
import { StageInputError, type StageType } from '../engine/stage.ts';
import { StageCodeMismatch, type StageRegistry } from '../engine/stage-registry.ts';
import type { StageTask } from '../engine/task.ts';
import { connect, ready } from './connection.ts';
import { encodeJobError, jobDataSchema, localPath, PACKAGE_VERSION, PREFIX, PROTOCOL, queueName, WORKERS_KEY, type JobMessage, type JobResult } from './protocol.ts';
import type { RedisTarget } from './redis-url.ts';
import { errorText } from '../util/error-text.ts';

export interface StageWorkerOptions {
  redis: RedisTarget;
  store: Store;
  registry: StageRegistry;
  /** This checkout: relative experiment folders and stage modules resolve against it. */
  root: string;
  name: string;
  /** Resource classes offered: one BullMQ queue each (`cpu`, `gpu`, ...). */
  resources: string[];
  /** Jobs at once (per resource class; gpu: one). */
  concurrency: number;
  log(level: LogLevel, message: string): void;
  /** BullMQ lock duration and stalled-job check interval (defaults 30 s and 15 s). */
  lockMs?: number;
  stalledMs?: number;
  /** After SIGTERM, how long running jobs may finish before they are handed back (default 25 s). */
  graceMs?: number;
  /** A refused job comes back to the queue after this delay (default 5 s), for a worker that can run it. */
  refuseDelayMs?: number;
}

/** This code differs from the job's: another worker should take it. */
class Refusal extends Error {}

const HEARTBEAT_MS = 5000;
const EVENT_FLUSH_MS = 250;

/**
 * `pipeline worker`: takes stage tasks from the BullMQ queues of the resource classes it offers and
 * runs them with the same code path as a local run (runTask) against the shared store. Events go back
 * through job progress; the result (an artifact digest) is the job's return value.
 */
export class StageWorker {
  private readonly workers: Worker[] = [];
  private readonly running = new Map<string, AbortController>();
  private redis?: Redis;
  private heartbeat?: NodeJS.Timeout;
  private readonly itemConcurrency: number;
  private closing = false;

  constructor(private readonly opts: StageWorkerOptions) {
    this.itemConcurrency = Math.max(1, Math.floor(availableParallelism() / opts.concurrency));
  }

  async start(timeoutMs = 30_000): Promise<void> {
    const { opts } = this;
    this.redis = connect(opts.redis, `pipeline-worker:${opts.name}`, (m) => opts.log('warn', `Redis: ${m}`));
    await ready(this.redis, opts.redis, timeoutMs);
    for (const resource of opts.resources) {
      const worker = new Worker(queueName(resource), (job, token) => this.process(job, token), {
        connection: this.redis,
        prefix: PREFIX,
        name: opts.name,
        concurrency: resource === 'gpu' ? 1 : opts.concurrency,
        lockDuration: opts.lockMs ?? 30_000,
        stalledInterval: opts.stalledMs ?? 15_000,
        maxStalledCount: 2,
      });
      worker.on('error', (err) => opts.log('warn', `queue ${resource}: ${err.message}`));
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat().catch(() => undefined), HEARTBEAT_MS);
    opts.log('info', `worker ${opts.name} (pipeline ${PACKAGE_VERSION}) takes ${opts.resources.join(', ')} jobs from ${opts.redis.display}, ${opts.concurrency} at a time; store ${opts.store.location}`);
  }

  private beat(): Promise<unknown> {
    const { name, resources, concurrency } = this.opts;
    return this.redis!.hset(WORKERS_KEY, name, JSON.stringify({ name, resources, concurrency, version: PACKAGE_VERSION, host: hostname(), pid: process.pid, seen: Date.now() }));
  }

  private async process(job: Job, token?: string): Promise<JobResult> {
    const { opts } = this;
    const parsed = jobDataSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(encodeJobError({ name: 'Error', message: `job ${job.id} is not a pipeline stage task: ${parsed.error.issues[0]?.message}` }));
    const data = parsed.data as { protocol: number; package: string; task: StageTask };
    const task: StageTask = { ...data.task, baseDir: localPath(data.task.baseDir, opts.root) };
    const label = `${task.instance.id}${task.chunk ? ` chunk ${task.chunk.index + 1}/${task.chunk.count}` : ''}`;
    const send = (m: JobMessage) => job.updateProgress(m as object);
    let type: StageType;
    try {
      type = await this.accept(data, task);
    } catch (err) {
      if (!(err instanceof Refusal || err instanceof StageCodeMismatch)) throw err;
      const reason = err.message;
      opts.log('warn', `refused ${label} (job ${job.id}): ${reason}`);
      await send({ refused: { worker: opts.name, reason } });
      await job.moveToDelayed(Date.now() + (opts.refuseDelayMs ?? 5000), token);
      throw new DelayedError();
    }

    const controller = new AbortController();
    this.running.set(job.id!, controller);
    const pending: PipelineEvent[] = [];
    let flushing: Promise<unknown> = Promise.resolve();
    const flush = () => {
      if (!pending.length) return flushing;
      const events = pending.splice(0);
      flushing = flushing.then(() => send({ events })).catch(() => undefined);
      return flushing;
    };
    const timer = setInterval(() => void flush(), EVENT_FLUSH_MS);
    opts.log('info', `running ${label} (${task.uses}, job ${job.id})`);
    const started = Date.now();
    try {
      await send({ started: { worker: opts.name, ...(task.chunk ? { chunk: task.chunk } : {}) } });
      const outcome = await runTask(task, { store: opts.store, registry: opts.registry, concurrency: this.itemConcurrency, type, threads: () => this.itemConcurrency }, { emit: (e) => pending.push(e), signal: controller.signal });
      await flush();
      opts.log('info', `finished ${label} in ${((Date.now() - started) / 1000).toFixed(1)} s${outcome.cached ? ' (already in the store)' : ''}`);
      return { ...outcome, worker: opts.name };
    } catch (err) {
      if (controller.signal.aborted) {
        // Stopping (SIGTERM past the grace period): hand the job back at once instead of waiting for stall detection.
        opts.log('warn', `handing back ${label}: the worker is stopping`);
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const e = err instanceof Error ? err : new Error(errorText(err));
      if (e.stack && !(e instanceof StageInputError)) pending.push({ type: 'log', runId: task.runId, instance: task.instance.id, level: 'debug', message: `${opts.name}: ${e.stack}`, time: Date.now() });
      await flush();
      opts.log('warn', `failed ${label} (attempt ${job.attemptsMade + 1}): ${e.message}`);
      const reason = encodeJobError({ name: e.name, message: e.message, ...((e as StageInputError).hint ? { hint: (e as StageInputError).hint } : {}) });
      // The user's input will not change on a retry.
      throw e instanceof StageInputError ? new UnrecoverableError(reason) : new Error(reason);
    } finally {
      clearInterval(timer);
      this.running.delete(job.id!);
    }
  }

  /** Checks the job was planned with this code and sees the same external files; throws Refusal otherwise. */
  private async accept(data: { protocol: number; package: string }, task: StageTask): Promise<StageType> {
    if (data.protocol !== PROTOCOL) throw new Refusal(`job protocol ${data.protocol}, this worker speaks ${PROTOCOL}`);
    if (data.package !== PACKAGE_VERSION) throw new Refusal(`the run was planned with pipeline ${data.package}, this worker runs ${PACKAGE_VERSION}`);
    const type = await resolveTaskStage(task, this.opts.registry);
    // A fresh hasher per job: its memo (path, size, mtime) lives in the store, so unchanged files are only stat'ed.
    const hasher = new ExternalHasher(this.opts.store);
    for (const e of type.externalPaths?.(task.params) ?? []) {
      const want = task.external[e.param];
      if (want === undefined) continue;
      const have = await hasher.hash(resolve(task.baseDir, e.path), e.glob);
      if (have !== want) throw new Refusal(`with.${e.param} (${e.path}) has different content on this worker (${have === 'missing' ? 'missing' : have.slice(0, 12)}) than when the run was planned (${want.slice(0, 12)})`);
    }
    return type;
  }

  /** Stops taking jobs; running ones may finish within the grace period, then they are handed back. */
  async stop(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.heartbeat);
    const closing = Promise.all(this.workers.map((w) => w.close()));
    const grace = setTimeout(() => {
      for (const c of this.running.values()) c.abort(new Error('worker stopping'));
    }, this.opts.graceMs ?? 25_000);
    await closing;
    clearTimeout(grace);
    await this.redis?.hdel(WORKERS_KEY, this.opts.name).catch(() => undefined);
    this.redis?.disconnect();
  }
}

export function defaultWorkerName(): string {
  return `${hostname()}-${process.pid}`;
}
