import { setMaxListeners } from 'node:events';
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Store } from '../store/store.ts';
import type { ItemCounts, LogLevel, PipelineEvent } from '../engine/events.ts';
import { findCached } from '../engine/run-task.ts';
import { StageInputError } from '../engine/stage.ts';
import { NotAdmitted, type ChunkSpec, type StageExecutor, type StageTask, type TaskIO, type TaskOutcome } from '../engine/task.ts';
import { connect, ready } from './connection.ts';
import { decodeJobError, DEFAULT_RESOURCE, jobId, PACKAGE_VERSION, portablePath, PREFIX, PROTOCOL, queueName, WORKERS_KEY, type JobData, type JobMessage, type JobResult } from './protocol.ts';
import type { RedisTarget } from './redis-url.ts';
import { errorText } from '../util/error-text.ts';

export interface QueueExecutorOptions {
  redis: RedisTarget;
  /** The store the workers share: results are checked in it. */
  store: Store;
  /** This checkout: experiment folders inside it are sent relative to it. */
  root: string;
  log(level: LogLevel, message: string): void;
  /** Items per chunk of a per-item stage (PIPELINE_CHUNK_ITEMS, default 500) and the most chunks per stage (64). */
  chunkItems?: number;
  maxChunks?: number;
  /** Attempts per job and the first retry delay, doubled each time (PIPELINE_QUEUE_ATTEMPTS 3, PIPELINE_QUEUE_BACKOFF_MS 5000). */
  attempts?: number;
  backoffMs?: number;
  /** How often waiting jobs are checked in Redis besides its events (2 s). */
  pollMs?: number;
  /** Redis unreachable this long fails the waiting work (PIPELINE_QUEUE_DOWN_MS, 60 s). */
  downTimeoutMs?: number;
}

interface LiveWorker {
  name: string;
  resources: string[];
  version: string;
  seen: number;
}

interface Waiter {
  jobId: string;
  resource: string;
  data: JobData;
  label: string;
  refusals: Map<string, string>;
  onMessage(m: JobMessage): void;
  resolve(result: JobResult): void;
  reject(err: Error): void;
}

const LIVE_MS = 20_000;

function envNumber(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

/**
 * Runs stage tasks on `pipeline worker`s through BullMQ queues on Redis, one queue per resource class.
 * The job id is the instance's cache key (+ chunk), so the same work enqueued twice (a restarted or a
 * second coordinator) is one job; results are digests of what the worker committed to the shared store.
 * Usable by several runs at once (sweeps).
 */
export class QueueExecutor implements StageExecutor {
  readonly remote = true;
  readonly description: string;
  private readonly queues = new Map<string, Queue>();
  private readonly events = new Map<string, Promise<QueueEvents>>();
  private readonly waiting = new Map<string, Set<Waiter>>();
  private readonly warned = new Set<string>();
  private workersCache?: { at: number; list: Promise<LiveWorker[]> };
  private poller?: NodeJS.Timeout;
  private readonly extraConnections: Redis[] = [];
  private polling = false;
  private downSince?: number;
  private readonly chunkItems: number;
  private readonly maxChunks: number;
  private readonly attempts: number;
  private readonly backoffMs: number;

  private constructor(private readonly opts: QueueExecutorOptions, private readonly redis: Redis) {
    this.description = `queue ${opts.redis.display}`;
    this.chunkItems = opts.chunkItems ?? envNumber('PIPELINE_CHUNK_ITEMS', 500);
    this.maxChunks = opts.maxChunks ?? 64;
    this.attempts = opts.attempts ?? envNumber('PIPELINE_QUEUE_ATTEMPTS', 3);
    this.backoffMs = opts.backoffMs ?? envNumber('PIPELINE_QUEUE_BACKOFF_MS', 5000);
  }

  static async connect(opts: QueueExecutorOptions, timeoutMs = 15_000): Promise<QueueExecutor> {
    const redis = connect(opts.redis, 'pipeline-coordinator', (m) => opts.log('warn', `Redis: ${m}`));
    try {
      await ready(redis, opts.redis, timeoutMs);
    } catch (err) {
      redis.disconnect();
      throw err;
    }
    const executor = new QueueExecutor(opts, redis);
    executor.poller = setInterval(() => void executor.poll(), opts.pollMs ?? 2000);
    return executor;
  }

  async run(task: StageTask, io: TaskIO): Promise<TaskOutcome> {
    if (io.signal.aborted) throw io.signal.reason ?? new Error('cancelled');
    // One abort listener per job waited for: a run may wait for hundreds.
    setMaxListeners(0, io.signal);
    if (!io.admit()) throw new NotAdmitted();
    const resource = await this.route(task, io);
    const forward = (e: PipelineEvent) => io.emit({ ...e, runId: task.runId, ...('instance' in e ? { instance: task.instance.id } : {}) } as PipelineEvent);
    const workers: string[] = [];
    const onStart = (m: JobMessage) => {
      if (!('started' in m)) return;
      const { worker, chunk } = m.started;
      io.started({ worker, chunk });
      if (chunk) forward({ type: 'log', runId: task.runId, instance: task.instance.id, level: 'info', message: `${task.instance.id}${chunk ? ` chunk ${chunk.index + 1}/${chunk.count}` : ''} runs on worker ${worker}`, time: Date.now() });
    };
    let chunked: ItemCounts | undefined;
    const count = this.chunkCount(task);
    if (count > 1) {
      const latest: ItemCounts[] = [];
      const sum = (): ItemCounts => latest.reduce((a, c) => ({ done: a.done + c.done, total: a.total + c.total, cached: a.cached + c.cached, failed: a.failed + c.failed }), { done: 0, total: 0, cached: 0, failed: 0 });
      const results = await Promise.all(
        Array.from({ length: count }, (_, index) => {
          const chunk: ChunkSpec = { index, count };
          return this.submit(resource, jobId(task, chunk), { ...task, chunk }, io.signal, (m) => {
            onStart(m);
            if (!('events' in m)) return;
            for (const e of m.events) {
              if (e.type !== 'progress') forward(e);
              else {
                latest[index] = e.items;
                forward({ ...e, items: sum() });
              }
            }
          });
        }),
      );
      results.forEach((r, i) => (latest[i] = r.items ?? latest[i] ?? { done: 0, total: 0, cached: 0, failed: 0 }));
      chunked = sum();
      workers.push(...results.map((r) => r.worker));
    }
    const result = await this.submitVerified(resource, chunked ? { ...task, itemsDone: true } : task, io.signal, (m) => {
      onStart(m);
      if ('events' in m) for (const e of m.events) if (!(chunked && e.type === 'progress')) forward(e);
    });
    workers.push(result.worker);
    let items = result.items;
    if (chunked && items) {
      // Items the chunks computed show as run, not as cache hits of the assembling run.
      const computed = chunked.done - chunked.cached - chunked.failed;
      items = { ...items, cached: Math.max(0, items.cached - computed) };
      forward({ type: 'progress', runId: task.runId, instance: task.instance.id, items, time: Date.now() });
    }
    // The coordinator found no cached output before enqueueing: whatever job committed it since (this
    // run's, an earlier attempt that lost its lock, another coordinator's), the instance ran for this run.
    return { artifact: result.artifact, items, workers: [...new Set(workers)] };
  }

  private chunkCount(task: StageTask): number {
    if (!task.perItem || task.chunk || !task.itemsHint) return 1;
    return Math.min(this.maxChunks, Math.ceil(task.itemsHint / this.chunkItems));
  }

  /** Submits the whole task; a result whose output is gone from the store (collected since) is redone once. */
  private async submitVerified(resource: string, task: StageTask, signal: AbortSignal, onMessage: (m: JobMessage) => void): Promise<JobResult> {
    const id = jobId(task);
    for (let attempt = 0; ; attempt++) {
      const result = await this.submit(resource, id, task, signal, onMessage);
      if (result.artifact && (task.forced || (await findCached(this.opts.store, task.key)))) return result;
      if (attempt > 0) throw new Error(`worker ${result.worker} reported artifact ${result.artifact?.slice(0, 12) ?? '(none)'}, which is not in the store at ${this.opts.store.location}: do the workers and the coordinator share one store?`);
      await (await this.queue(resource).getJob(id))?.remove().catch(() => undefined);
    }
  }

  private submit(resource: string, id: string, task: StageTask, signal: AbortSignal, onMessage: (m: JobMessage) => void): Promise<JobResult> {
    const data: JobData = { protocol: PROTOCOL, package: PACKAGE_VERSION, task: { ...task, baseDir: portablePath(task.baseDir, this.opts.root) } };
    const label = `${task.instance.id}${task.chunk ? ` chunk ${task.chunk.index + 1}/${task.chunk.count}` : ''}`;
    return new Promise<JobResult>((resolve, reject) => {
      const waiter: Waiter = {
        jobId: id,
        resource,
        data,
        label,
        refusals: new Map(),
        onMessage,
        resolve: (r) => done(() => resolve(r)),
        reject: (e) => done(() => reject(e)),
      };
      const onAbort = () => {
        waiter.reject(signal.reason ?? new Error('cancelled'));
        // Work not started yet is withdrawn; a running job finishes (its output is cached for the rerun).
        void this.queue(resource).getJob(id).then(async (job) => {
          if (job && ['waiting', 'delayed', 'prioritized'].includes(await job.getState())) await job.remove();
        }).catch(() => undefined);
      };
      const done = (fn: () => void) => {
        const set = this.waiting.get(id);
        set?.delete(waiter);
        if (set && !set.size) this.waiting.delete(id);
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      (this.waiting.get(id) ?? this.waiting.set(id, new Set()).get(id)!).add(waiter);
      this.listen(resource)
        .then(() => this.enqueue(waiter))
        .catch((err) => waiter.reject(err));
    });
  }

  /** Adds the job unless it exists: a finished one answers at once, a failed one is retried. */
  private async enqueue(w: Waiter): Promise<void> {
    const queue = this.queue(w.resource);
    const state = await queue.getJobState(w.jobId);
    if (state === 'completed' && (await this.settleIfFinished(w.resource, w.jobId)) === 'finished') return;
    if (state === 'failed') await (await queue.getJob(w.jobId))?.remove().catch(() => undefined);
    else if (state !== 'unknown' && state !== 'completed') return;
    await queue.add('stage', w.data, {
      jobId: w.jobId,
      attempts: this.attempts,
      backoff: { type: 'exponential', delay: this.backoffMs },
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 24 * 3600 },
    });
  }

  private settle(id: string, job: Job, state: 'completed' | 'failed'): void {
    const waiters = [...(this.waiting.get(id) ?? [])];
    if (!waiters.length) return;
    if (state === 'completed') {
      const value = (typeof job.returnvalue === 'string' ? JSON.parse(job.returnvalue) : job.returnvalue) as JobResult;
      for (const w of waiters) w.resolve(value);
      return;
    }
    const error = decodeJobError(job.failedReason);
    for (const w of waiters) {
      const attempts = job.attemptsMade ? ` after ${job.attemptsMade} attempt${job.attemptsMade > 1 ? 's' : ''}` : '';
      w.reject(error.name === 'StageInputError' ? new StageInputError(error.message, error.hint) : Object.assign(new Error(`${error.message}${attempts}`), { name: error.name }));
    }
  }

  private queue(resource: string): Queue {
    let q = this.queues.get(resource);
    if (!q) {
      q = new Queue(queueName(resource), { connection: this.redis, prefix: PREFIX });
      q.on('error', (err) => this.warnOnce(`queue:${err.message}`, `Redis: ${err.message}`));
      this.queues.set(resource, q);
    }
    return q;
  }

  /** One QueueEvents reader per queue: job progress (events, refusals), completion and failure. */
  private listen(resource: string): Promise<QueueEvents> {
    let p = this.events.get(resource);
    if (!p) {
      const connection = connect(this.opts.redis, 'pipeline-coordinator-events', () => undefined);
      this.extraConnections.push(connection);
      const events = new QueueEvents(queueName(resource), { connection, prefix: PREFIX });
      events.on('error', (err) => this.warnOnce(`events:${err.message}`, `Redis: ${err.message}`));
      events.on('progress', ({ jobId: id, data }) => {
        const m = data as JobMessage;
        for (const w of this.waiting.get(id) ?? []) {
          if (m && typeof m === 'object' && 'refused' in m) this.refused(w, m.refused.worker, m.refused.reason);
          else w.onMessage(m);
        }
      });
      events.on('completed', ({ jobId: id }) => void this.check(id));
      events.on('failed', ({ jobId: id }) => void this.check(id));
      p = events.waitUntilReady().then(() => events);
      this.events.set(resource, p);
    }
    return p;
  }

  private async check(id: string): Promise<void> {
    const w = [...(this.waiting.get(id) ?? [])][0];
    if (w) await this.settleIfFinished(w.resource, id);
  }

  /**
   * Settles the waiters of a finished job. The state is read before the job: a job read while active
   * and found completed a moment later has no return value yet.
   */
  private async settleIfFinished(resource: string, id: string): Promise<'finished' | 'missing' | 'pending'> {
    const queue = this.queue(resource);
    const state = await queue.getJobState(id);
    if (state !== 'completed' && state !== 'failed') return state === 'unknown' ? 'missing' : 'pending';
    const job = await queue.getJob(id);
    if (!job) return 'missing';
    this.settle(id, job, state);
    return 'finished';
  }

  private refused(w: Waiter, worker: string, reason: string): void {
    if (w.refusals.get(worker) === reason) return;
    w.refusals.set(worker, reason);
    this.opts.log('warn', `worker ${worker} refused ${w.label}: ${reason}`);
  }

  /** The queue (resource class) for a task: its declared class, else its preferred one when a worker offers it, else cpu. */
  private async route(task: StageTask, io: TaskIO): Promise<string> {
    const offered = (r: string) => this.liveWorkers().then((ws) => ws.some((w) => w.resources.includes(r)));
    if (task.resource) {
      if (!(await offered(task.resource))) this.warnOnce(`none:${task.resource}`, `no connected worker offers ${task.resource}: ${task.instance.id} waits for one (pipeline worker --resources ${task.resource})`, io);
      return task.resource;
    }
    if (task.prefers && (await offered(task.prefers))) return task.prefers;
    if (!(await offered(DEFAULT_RESOURCE))) this.warnOnce('none:cpu', `no worker is connected to ${this.opts.redis.display}: the work waits for one (start pipeline worker --queue ...)`, io);
    return DEFAULT_RESOURCE;
  }

  private liveWorkers(): Promise<LiveWorker[]> {
    const now = Date.now();
    if (!this.workersCache || now - this.workersCache.at > 2000) {
      const list = this.redis.hgetall(WORKERS_KEY).then((all) =>
        Object.values(all)
          .map((v) => JSON.parse(v) as LiveWorker)
          .filter((w) => now - w.seen < LIVE_MS),
      );
      this.workersCache = { at: now, list };
    }
    return this.workersCache.list;
  }

  private warnOnce(key: string, message: string, io?: TaskIO): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.opts.log('warn', message);
    void io;
  }

  /**
   * The safety net under the events: finished jobs whose event was missed, jobs that vanished (Redis
   * restarted without persistence: enqueued again, the store keeps what was done), jobs every
   * connected worker refused, and a Redis that stays unreachable.
   */
  private async poll(): Promise<void> {
    if (this.polling || !this.waiting.size) return;
    this.polling = true;
    try {
      if (this.redis.status !== 'ready') {
        this.downSince ??= Date.now();
        const limit = this.opts.downTimeoutMs ?? envNumber('PIPELINE_QUEUE_DOWN_MS', 60_000);
        if (Date.now() - this.downSince > limit) {
          const error = new Error(`lost the connection to Redis at ${this.opts.redis.display} for ${Math.round(limit / 1000)} s; finished work is in the store, rerun to go on`);
          for (const set of this.waiting.values()) for (const w of [...set]) w.reject(error);
        }
        return;
      }
      this.downSince = undefined;
      const live = await this.liveWorkers();
      for (const [id, set] of [...this.waiting]) {
        const w = [...set][0];
        if (!w) continue;
        const found = await this.settleIfFinished(w.resource, id);
        if (found === 'missing') {
          this.opts.log('warn', `job for ${w.label} is no longer in Redis (restarted without persistence?): enqueued again`);
          await this.enqueue(w);
          continue;
        }
        if (found === 'finished') continue;
        const job = await this.queue(w.resource).getJob(id);
        if (!job) continue;
        const able = live.filter((l) => l.resources.includes(w.resource));
        if (w.refusals.size && able.length && able.every((l) => w.refusals.has(l.name))) {
          const reasons = [...w.refusals].map(([name, reason]) => `${name}: ${reason}`).join('; ');
          await job.remove().catch(() => undefined);
          for (const x of [...set]) x.reject(new Error(`no connected worker accepts ${w.label}: ${reasons}`));
        }
      }
    } catch (err) {
      this.warnOnce(`poll:${errorText(err)}`, `checking jobs in Redis failed: ${errorText(err)}`);
    } finally {
      this.polling = false;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.poller);
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    await Promise.allSettled([...this.events.values()].map(async (p) => (await p).close()));
    this.redis.disconnect();
    for (const c of this.extraConnections) c.disconnect();
  }
}
