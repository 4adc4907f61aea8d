import { availableParallelism } from 'node:os';
import type * as tf from '../tf.ts';
import type { LossConfig } from '../losses/index.ts';
import { nativeTensorflowReason } from '../native-tensorflow.ts';
import { loadOnnxRuntime, onnxRuntimeLoadError, type OnnxRuntime } from '../onnx/runtime.ts';
import { OrtTrainer, trainLossOf, type NamedTensor } from '../onnx/training/ort-trainer.ts';
import type { OptimizerName } from './optimizer.ts';
import type { TrainEngine } from './train-engine-param.ts';

export type { TrainEngine } from './train-engine-param.ts';

/**
 * Optimizer steps run outside tfjs (ONNX Runtime). The model's variables are stale while it trains:
 * `writeToModel()` before anything reads them, `readFromModel()` after anything writes them. Optimizer
 * state in tfjs Adam's `getWeights()` format, so checkpoints resume on either engine.
 */
export interface ExternalTrainer {
  step(x: Float32Array, y: Float32Array, n: number, lr: number): Promise<number>;
  writeToModel(): void;
  readFromModel(): void;
  getOptimizerWeights(): NamedTensor[];
  setOptimizerWeights(weights: readonly NamedTensor[]): void;
  dispose(): Promise<void>;
}

export interface TrainEngineOptions {
  engine: TrainEngine;
  loss: LossConfig;
  classWeights?: readonly number[];
  optimizer: OptimizerName;
  /** Data-parallel worker threads of the tfjs path (> 1: tfjs). */
  workers: number;
  /** ONNX Runtime intra-op threads (default: the machine's available parallelism). */
  threads?: number;
  log(message: string): void;
}

/**
 * The trainer of the chosen engine, or undefined for tfjs. `onnxruntime` fails when it cannot be used;
 * `auto` then trains on tfjs and logs why.
 */
export async function createExternalTrainer(model: tf.LayersModel, options: TrainEngineOptions): Promise<ExternalTrainer | undefined> {
  return onnxRuntimeTrainer(options, (runtime, threads) => {
    if (options.workers > 1) throw new Error(`workers: ${options.workers} (data-parallel steps run on tfjs)`);
    return OrtTrainer.create(model, { loss: trainLossOf(options.loss, options.classWeights), optimizer: { name: options.optimizer }, threads, runtime });
  });
}

/**
 * The engine choice shared by every ONNX Runtime trainer: `tfjs` gives undefined; `onnxruntime` creates
 * the trainer or fails; `auto` creates it unless tfjs runs on native TensorFlow, onnxruntime-node is
 * missing or `create` throws (an unsupported layer, loss or optimizer), then logs why and gives undefined.
 */
export async function onnxRuntimeTrainer(
  options: { engine: TrainEngine; threads?: number; log(message: string): void },
  create: (runtime: OnnxRuntime, threads: number) => Promise<ExternalTrainer>,
): Promise<ExternalTrainer | undefined> {
  if (options.engine === 'tfjs') return undefined;
  try {
    const native = options.engine === 'auto' ? nativeTensorflowReason() : undefined;
    if (native) throw new Error(native);
    const runtime = await loadOnnxRuntime();
    if (!runtime) throw new Error(`onnxruntime-node is not available (${onnxRuntimeLoadError() ?? 'not installed'})`);
    const threads = options.threads ?? availableParallelism();
    const trainer = await create(runtime, threads);
    options.log(`training engine: onnxruntime (${threads} thread${threads === 1 ? '' : 's'})`);
    return trainer;
  } catch (e) {
    if (options.engine === 'onnxruntime') throw e;
    options.log(`training engine: tfjs (${e instanceof Error ? e.message : String(e)})`);
    return undefined;
  }
}
