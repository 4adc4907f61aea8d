import { Worker } from 'node:worker_threads';
import { convertDicom, type ConvertOptions, type ConvertResult } from './convert.ts';
import type { ConvertRequest } from './convert-worker.ts';

type Reply = { id: number; ok: true; result: ConvertResult } | { id: number; ok: false; error: string };

/**
 * Converts DICOM files on a small pool of worker threads (decoding and LUTs are CPU-bound JS/wasm that
 * would otherwise serialise on the main thread). `size` 0 converts in-process.
 */
export class ConvertPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly waiting: Array<{ resolve(w: Worker): void; reject(e: Error): void }> = [];
  private broken: Error | undefined;
  private readonly pending = new Map<number, { resolve(r: ConvertResult): void; reject(e: Error): void }>();
  private nextId = 0;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL('./convert-worker-entry.mjs', import.meta.url));
      worker.on('message', (reply: Reply) => this.settle(worker, reply));
      worker.on('error', (err) => this.failAll(err));
      worker.unref();
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  async convert(bytes: Uint8Array, options: ConvertOptions): Promise<ConvertResult> {
    if (this.size === 0) return convertDicom(bytes, options);
    if (this.broken) throw this.broken;
    const worker = this.idle.pop() ?? (await new Promise<Worker>((resolve, reject) => this.waiting.push({ resolve, reject })));
    const id = this.nextId++;
    const copy = new Uint8Array(bytes); // transferred to the worker; the caller keeps its buffer
    const reply = new Promise<ConvertResult>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    worker.ref(); // keep the process alive while a file is in flight
    worker.postMessage({ id, bytes: copy, options } satisfies ConvertRequest, [copy.buffer]);
    return reply;
  }

  private settle(worker: Worker, reply: Reply): void {
    const entry = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    const next = this.waiting.shift();
    if (next) next.resolve(worker);
    else {
      worker.unref();
      this.idle.push(worker);
    }
    if (!entry) return;
    if (reply.ok) {
      for (const image of reply.result.images) image.png = Buffer.from(image.png.buffer, image.png.byteOffset, image.png.byteLength);
      entry.resolve(reply.result);
    } else entry.reject(new Error(reply.error));
  }

  private failAll(err: Error): void {
    this.broken = new Error(`convert worker crashed: ${err.message}`);
    for (const entry of [...this.pending.values(), ...this.waiting]) entry.reject(this.broken);
    this.pending.clear();
    this.waiting.length = 0;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
