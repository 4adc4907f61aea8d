import { Worker } from 'node:worker_threads';
import { errorText } from './error-text.ts';

type Reply<R> = { id: number; ok: true; result: R } | { id: number; ok: false; error: string };

/**
 * A fixed pool of worker threads answering one request per message with `{ id, ok, result | error }`
 * (see `serveRequests`). Requests wait for an idle worker; idle workers do not keep the process alive.
 */
export class WorkerPool<Q, R> {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly waiting: Array<(w: Worker) => void> = [];
  private readonly pending = new Map<number, { resolve(r: R): void; reject(e: Error): void }>();
  private broken: Error | undefined;
  private nextId = 0;

  constructor(entry: URL, readonly size: number, private readonly label = 'worker') {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(entry);
      worker.on('message', (reply: Reply<R>) => this.settle(worker, reply));
      worker.on('error', (err) => this.failAll(err));
      worker.unref();
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  async run(request: Q, transfer: ArrayBuffer[] = []): Promise<R> {
    if (this.broken) throw this.broken;
    const worker = this.idle.pop() ?? (await new Promise<Worker>((resolve) => this.waiting.push(resolve)));
    if (this.broken) throw this.broken;
    const id = this.nextId++;
    const reply = new Promise<R>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    worker.ref();
    worker.postMessage({ id, request }, transfer);
    return reply;
  }

  private settle(worker: Worker, reply: Reply<R>): void {
    const entry = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    const next = this.waiting.shift();
    if (next) next(worker);
    else {
      worker.unref();
      this.idle.push(worker);
    }
    if (!entry) return;
    if (reply.ok) entry.resolve(reply.result);
    else entry.reject(new Error(reply.error));
  }

  private failAll(err: Error): void {
    this.broken = new Error(`${this.label} crashed: ${err.message}`);
    for (const entry of this.pending.values()) entry.reject(this.broken);
    this.pending.clear();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Worker side: answers each `{ id, request }` message with `handle(request)`'s result or its error message. */
export function serveRequests<Q, R>(port: import('node:worker_threads').MessagePort, handle: (request: Q) => Promise<{ result: R; transfer?: ArrayBuffer[] }>): void {
  port.on('message', async ({ id, request }: { id: number; request: Q }) => {
    try {
      const { result, transfer } = await handle(request);
      port.postMessage({ id, ok: true, result }, transfer ?? []);
    } catch (err) {
      port.postMessage({ id, ok: false, error: errorText(err) });
    }
  });
}
