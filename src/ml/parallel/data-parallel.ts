import { Worker } from 'node:worker_threads';
import * as tf from '../tf.ts';
import type { BackendPreference } from '../backend.ts';
import type { LossConfig, LossFn } from '../losses/index.ts';
import type { ModelSpec } from '../models/index.ts';
import type { WorkerReply, WorkerRequest } from './messages.ts';
import { shardGradients, stateWeights } from './shard-step.ts';

/**
 * Data-parallel training steps over worker threads (each its own tfjs/wasm instance, so each uses a
 * core): the batch is split into shards, the main thread computes one shard while the workers compute
 * the others from the same weights, and the shard gradients (weighted by shard size, exact for the
 * mean losses) are applied once. Batch-norm statistics are per shard (as PyTorch DDP without SyncBN);
 * the moving averages are averaged over shards.
 */
export class DataParallel {
  private readonly workers: Worker[] = [];
  private nextId = 0;

  private constructor() {}

  static async start(count: number, backend: BackendPreference, spec: ModelSpec, loss: LossConfig, classWeights?: number[]): Promise<DataParallel> {
    const dp = new DataParallel();
    await Promise.all(
      Array.from({ length: count }, async () => {
        // One wasm thread per gradient worker: the shards already split the cores between them.
        const worker = new Worker(new URL('./grad-worker-entry.mjs', import.meta.url), { env: { ...process.env, PIPELINE_WASM_THREADS: '1' } });
        dp.workers.push(worker);
        await dp.request(worker, { type: 'init', backend, spec, loss, classWeights });
      }),
    );
    return dp;
  }

  private request(worker: Worker, message: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      const onMessage = (reply: WorkerReply) => {
        cleanup();
        if (reply.type === 'error') reject(new Error(`gradient worker: ${reply.message}`));
        else resolve(reply);
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.postMessage(message, transfer);
    });
  }

  /** One optimizer step on batch (x, y); returns the batch's mean loss. */
  async step(model: tf.LayersModel, optimizer: tf.Optimizer, loss: LossFn, x: tf.Tensor4D, y: tf.Tensor2D): Promise<number> {
    const n = x.shape[0];
    const parts = this.workers.length + 1;
    const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((i * n) / parts));
    const weights = model.weights.map((w) => w.read().dataSync() as Float32Array);
    const pending = this.workers.map((worker, k) => {
      const [from, to] = [bounds[k + 1], bounds[k + 2]];
      const xs = x.slice([from], [to - from]);
      const ys = y.slice([from], [to - from]);
      const message: WorkerRequest = { type: 'step', id: this.nextId++, weights, x: xs.dataSync() as Float32Array, xShape: xs.shape, y: ys.dataSync() as Float32Array, yShape: ys.shape };
      tf.dispose([xs, ys]);
      return this.request(worker, message).then((r) => ({ ...(r as Extract<WorkerReply, { type: 'step' }>), size: to - from }));
    });
    const local = tf.tidy(() => {
      const r = shardGradients(model, loss, x.slice([0], [bounds[1]]), y.slice([0], [bounds[1]]));
      return { loss: r.loss, grads: r.grads.map((g) => tf.keep(g)) };
    });
    const remote = await Promise.all(pending);
    const state = stateWeights(model);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const localShare = bounds[1] / n;
    tf.tidy(() => {
      const named: Record<string, tf.Tensor> = {};
      vars.forEach((v, i) => {
        let g = tf.mul(local.grads[i], localShare);
        for (const r of remote) g = tf.add(g, tf.mul(tf.tensor(r.grads[i], v.shape), r.size / n));
        named[v.name] = g;
      });
      optimizer.applyGradients(named);
      state.forEach((s, i) => {
        let avg = tf.mul(s.read(), localShare);
        for (const r of remote) avg = tf.add(avg, tf.mul(tf.tensor(r.state[i], s.shape as number[]), r.size / n));
        s.write(avg);
      });
    });
    tf.dispose(local.grads);
    return remote.reduce((sum, r) => sum + (r.loss * r.size) / n, local.loss * localShare);
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
