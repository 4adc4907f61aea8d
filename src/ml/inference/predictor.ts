import { availableParallelism } from 'node:os';
import * as tf from '../tf.ts';
import { nativeTensorflowReason } from '../native-tensorflow.ts';
import { exportToOnnx } from '../onnx/export-model.ts';
import { loadOnnxRuntime, onnxRuntimeLoadError, type OnnxRuntime } from '../onnx/runtime.ts';
import { ortPoolSpin, ortSpinMode, type OrtSpinMode } from '../onnx/pool-spin.ts';
import type { InferenceEngine } from './inference-param.ts';
import { errorText } from '../../util/error-text.ts';

export type { InferenceEngine } from './inference-param.ts';

/** A model's forward pass on a batch: `[n, ...input shape]` row-major in, `[n, classes]` scores out. */
export interface Predictor {
  readonly engine: 'tfjs' | 'onnxruntime';
  predict(x: Float32Array, n: number): Promise<Float32Array>;
  /** Frees the engine's resources (not the tfjs model, which stays the caller's). */
  dispose(): Promise<void>;
}

export interface PredictorOptions {
  /** auto (default): ONNX Runtime when onnxruntime-node loads and the model exports, else tfjs; tfjs too when it runs on native TensorFlow. */
  engine?: InferenceEngine;
  /** ONNX Runtime intra-op threads (default: the machine's available parallelism). */
  threads?: number;
  /** Whether the pool threads spin between ops (pool-spin.ts; default: PIPELINE_ORT_SPIN, else auto). */
  spin?: OrtSpinMode;
  log?: (message: string) => void;
  /** Loads onnxruntime-node (default `loadOnnxRuntime`; tests substitute a missing one). */
  loadRuntime?: () => Promise<OnnxRuntime | undefined>;
}

/**
 * The predictor of a tfjs LayersModel on the chosen engine. `onnxruntime` fails when it cannot be used;
 * `auto` then falls back to tfjs and logs why.
 */
export async function createPredictor(model: tf.LayersModel, options: PredictorOptions = {}): Promise<Predictor> {
  const engine = options.engine ?? 'auto';
  const log = options.log ?? (() => undefined);
  if (engine === 'tfjs') return tfjsPredictor(model);
  const native = engine === 'auto' ? nativeTensorflowReason() : undefined;
  if (native) {
    log(`inference engine: tfjs (${native})`);
    return tfjsPredictor(model);
  }
  const spin = options.spin ?? ortSpinMode(); // outside the try: a bad PIPELINE_ORT_SPIN is no reason to fall back
  const ort = await (options.loadRuntime ?? loadOnnxRuntime)();
  try {
    if (!ort) throw new Error(`onnxruntime-node is not available (${onnxRuntimeLoadError() ?? 'not installed'})`);
    const threads = options.threads ?? availableParallelism();
    const { predictor, pool } = await onnxRuntimePredictor(ort, model, threads, spin);
    log(`inference engine: onnxruntime (${threads} thread${threads === 1 ? '' : 's'}${pool ? `, pool ${pool}` : ''})`);
    return predictor;
  } catch (e) {
    if (engine === 'onnxruntime') throw e;
    log(`inference engine: tfjs (${errorText(e)})`);
    return tfjsPredictor(model);
  }
}

function tfjsPredictor(model: tf.LayersModel): Predictor {
  const shape = model.inputs[0].shape.slice(1) as number[];
  return {
    engine: 'tfjs',
    async predict(x, n) {
      checkBatch(x, n, shape);
      const y = tf.tidy(() => model.predict(tf.tensor(x, [n, ...shape])) as tf.Tensor);
      try {
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    },
    async dispose() {},
  };
}

async function onnxRuntimePredictor(ort: OnnxRuntime, model: tf.LayersModel, threads: number, spin: OrtSpinMode): Promise<{ predictor: Predictor; pool?: string }> {
  const deciding = ortPoolSpin(threads, spin);
  const exported = await exportToOnnx(model);
  const pool = await deciding;
  const session = await ort.InferenceSession.create(exported.bytes, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    executionMode: 'sequential',
    ...(pool && { extra: pool.config }), // the binding rejects extra: undefined
  });
  const predictor: Predictor = {
    engine: 'onnxruntime',
    async predict(x, n) {
      checkBatch(x, n, exported.inputShape);
      const out = await session.run({ [exported.inputName]: new ort.Tensor('float32', x, [n, ...exported.inputShape]) });
      return out[exported.outputName].data as Float32Array;
    },
    dispose: () => session.release(),
  };
  return { predictor, pool: pool?.reason };
}

function checkBatch(x: Float32Array, n: number, shape: readonly number[]): void {
  const per = shape.reduce((a, b) => a * b, 1);
  if (x.length !== n * per) throw new Error(`predict: ${x.length} values for ${n} inputs of shape [${shape.join(', ')}]`);
}
