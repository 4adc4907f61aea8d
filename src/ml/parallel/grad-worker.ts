import { parentPort } from 'node:worker_threads';
import * as tf from '../tf.ts';
import { initBackend } from '../backend.ts';
import { makeLoss, type LossFn } from '../losses/index.ts';
import { buildModel } from '../models/index.ts';
import type { WorkerReply, WorkerRequest } from './messages.ts';
import { shardGradients, stateWeights } from './shard-step.ts';
import { errorText } from '../../util/error-text.ts';

// A data-parallel gradient worker: holds a replica of the model, receives the current weights and a
// shard of the batch, returns the shard's loss, gradients and updated batch-norm statistics.
let model: tf.LayersModel | undefined;
let loss: LossFn | undefined;

const reply = (message: WorkerReply, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer);

parentPort!.on('message', async (request: WorkerRequest) => {
  try {
    if (request.type === 'init') {
      await initBackend(request.backend);
      model = buildModel(request.spec);
      loss = makeLoss(request.loss, request.spec.task, request.classWeights);
      reply({ type: 'ready' });
      return;
    }
    const { id, weights, x, xShape, y, yShape } = request;
    tf.tidy(() => model!.setWeights(weights.map((w, i) => tf.tensor(w, model!.weights[i].shape as number[]))));
    const result = tf.tidy(() => {
      const r = shardGradients(model!, loss!, tf.tensor4d(x, xShape as [number, number, number, number]), tf.tensor2d(y, yShape as [number, number]));
      return { loss: r.loss, grads: r.grads.map((g) => g.dataSync() as Float32Array) };
    });
    const state = stateWeights(model!).map((w) => w.read().dataSync() as Float32Array);
    reply({ type: 'step', id, loss: result.loss, grads: result.grads, state }, [...result.grads, ...state].map((a) => a.buffer as ArrayBuffer));
  } catch (err) {
    reply({ type: 'error', message: errorText(err) });
  }
});
