import { availableParallelism } from 'node:os';
import type * as tf from '../tf.ts';
import type { LossConfig } from '../losses/index.ts';
import type { Task } from '../models/index.ts';
import { nativeTensorflowReason } from '../native-tensorflow.ts';
import { loadOnnxRuntime, onnxRuntimeLoadError, type OnnxRuntime } from '../onnx/runtime.ts';
import { OnnxExportError } from '../onnx/errors.ts';
import { ortSpinMode } from '../onnx/pool-spin.ts';
import { stepsPerRunEnv } from '../onnx/training/steps-per-run.ts';
import { compileTrainStep, OrtTrainer, trainLossOf, type NamedTensor, type StepBatch } from '../onnx/training/ort-trainer.ts';
import { ortOptimizerConfig, type OptimizerName } from './optimizer.ts';
import type { TrainEngine } from './train-engine-param.ts';
import { errorText } from '../../util/error-text.ts';

export type { TrainEngine } from './train-engine-param.ts';
export type { StepBatch } from '../onnx/training/ort-trainer.ts';

/**
 * Optimizer steps run outside tfjs (ONNX Runtime). The model's variables are stale while it trains:
 * `writeToModel()` before anything reads them, `readFromModel()` after anything writes them. Optimizer
 * state in tfjs Adam's `getWeights()` format, so checkpoints resume on either engine.
 */
export interface ExternalTrainer {
  step(x: Float32Array, y: Float32Array, n: number, lr: number): Promise<number>;
  /** Batches per `stepMany` call that pay off (1 or absent: a `step` per batch). */
  readonly stepsPerRun?: number;
  /** `batches.length` steps of `n` examples at one learning rate, the updates of as many `step` calls; each step's loss. */
  stepMany?(batches: readonly StepBatch[], n: number, lr: number): Promise<number[]>;
  writeToModel(): void;
  readFromModel(): void;
  getOptimizerWeights(): NamedTensor[] | Promise<NamedTensor[]>;
  setOptimizerWeights(weights: readonly NamedTensor[]): void | Promise<void>;
  dispose(): Promise<void>;
  /** How ONNX Runtime's pool threads wait between ops (pool-spin.ts), for the log; undefined with one thread. */
  readonly pool?: string;
  /** Re-decides that at an epoch start (pool-respin.ts); a log line when it changed. */
  recheckPool?(): Promise<string | undefined>;
}

export interface TrainEngineOptions {
  engine: TrainEngine;
  loss: LossConfig;
  classWeights?: readonly number[];
  task: Task;
  optimizer: OptimizerName;
  /** Momentum of sgd (Nesterov) / rmsprop, as `makeOptimizer`. */
  momentum: number;
  /** Adam / RMSProp epsilon, as `makeOptimizer` (undefined: tfjs's 1e-7). */
  epsilon?: number;
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
    if (options.workers > 1) throw new Error(workersReason(options.workers));
    return OrtTrainer.create(model, { ...ortStep(options), threads, runtime });
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
  if (options.engine === 'tfjs') {
    options.log('training engine: tfjs (engine: tfjs)');
    return undefined;
  }
  ortSpinMode(); // a bad PIPELINE_ORT_SPIN (or PIPELINE_ORT_STEPS_PER_RUN) fails here, not as a reason for auto to fall back to tfjs
  stepsPerRunEnv();
  try {
    const native = options.engine === 'auto' ? nativeTensorflowReason() : undefined;
    if (native) throw new Error(native);
    const runtime = await loadOnnxRuntime();
    if (!runtime) throw new Error(`onnxruntime-node is not available (${onnxRuntimeLoadError() ?? 'not installed'})`);
    const threads = options.threads ?? availableParallelism();
    const trainer = await create(runtime, threads);
    options.log(`training engine: onnxruntime (${threads} thread${threads === 1 ? '' : 's'}${trainer.pool ? `, pool ${trainer.pool}` : ''})`);
    return trainer;
  } catch (e) {
    if (options.engine === 'onnxruntime') throw e;
    options.log(`training engine: tfjs (${errorText(e)})`);
    return undefined;
  }
}

type StepOptions = Pick<TrainEngineOptions, 'loss' | 'classWeights' | 'task' | 'optimizer' | 'momentum' | 'epsilon'>;

const ortStep = (options: StepOptions) => ({ loss: trainLossOf(options.loss, options.task, options.classWeights), optimizer: ortOptimizerConfig(options.optimizer, options.momentum, options.epsilon) });
const workersReason = (workers: number) => `workers: ${workers} (data-parallel steps run on tfjs)`;

/**
 * Why `engine: auto` would train this configuration on tfjs (undefined: on ONNX Runtime), leaving out
 * what depends on the machine (ONNX Runtime not installed, tfjs running on native TensorFlow). Compiles
 * the step graph without creating a session.
 */
export function ortTrainingBlocker(model: tf.LayersModel, options: StepOptions & Pick<TrainEngineOptions, 'workers'>): string | undefined {
  if (options.workers > 1) return workersReason(options.workers);
  try {
    compileTrainStep(model, ortStep(options));
    return undefined;
  } catch (e) {
    if (e instanceof OnnxExportError) return e.message;
    throw e;
  }
}
