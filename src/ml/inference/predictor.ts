import { availableParallelism } from 'node:os';
import * as tf from '../tf.ts';
import { nativeTensorflowReason } from '../native-tensorflow.ts';
import { exportToOnnx } from '../onnx/export-model.ts';
import { loadOnnxRuntime, onnxRuntimeLoadError, type OnnxRuntime } from '../onnx/runtime.ts';
import { ortSessionOptions, ortSpinMode, type OrtSpinMode, type PoolSpin } from '../onnx/pool-spin.ts';
import { PoolSpinGovernor } from '../onnx/pool-respin.ts';
import type { OrtSession } from '../onnx/runtime.ts';
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
  /** The policy deciding it over time (pool-respin.ts; default: one of the predictor's own from `threads` and `spin`). */
  governor?: PoolSpinGovernor;
  /** Milliseconds between re-decisions of the pool, checked before a batch (default PREDICTOR_RECHECK_MS). */
  recheckMs?: number;
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
    const governor = options.governor ?? new PoolSpinGovernor(threads, spin);
    if (governor.threads !== threads) throw new Error(`the pool governor decides for ${governor.threads} threads, the predictor runs ${threads}`);
    const { predictor, pool } = await onnxRuntimePredictor(ort, model, governor, options.recheckMs ?? PREDICTOR_RECHECK_MS, log);
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

/**
 * How often a predictor asks its pool governor again (pool-respin.ts): a `tta` stage's session lives for
 * the whole stage. Each sample then covers >= 5 s; a change needs two in a row, so it follows a job
 * that starts or stops within 10-15 s, for a new session (tens of ms) at most every 10 s.
 */
export const PREDICTOR_RECHECK_MS = 5000;

/**
 * The exported model on ONNX Runtime. Before a batch, every `recheckMs`, the governor may change the
 * pool's waiting: a new session of the same model takes the next batches, the old one is released once
 * its running batches end.
 */
async function onnxRuntimePredictor(ort: OnnxRuntime, model: tf.LayersModel, governor: PoolSpinGovernor, recheckMs: number, log: (message: string) => void): Promise<{ predictor: Predictor; pool?: string }> {
  const deciding = governor.current();
  const exported = await exportToOnnx(model);
  const pool = await deciding;
  const open = async (policy: PoolSpin | undefined) => ({
    session: await ort.InferenceSession.create(exported.bytes, ortSessionOptions(governor.threads, policy)),
    running: 0,
  });
  let current: { session: OrtSession; running: number } = await open(pool);
  let checked = performance.now();
  let rechecking: Promise<void> | undefined;
  const recheck = async () => {
    checked = performance.now();
    const next = await governor.recheck();
    if (!next) return;
    const old = current;
    current = await open(next);
    log(`ORT pool: now ${next.reason}`);
    if (old.running === 0) await old.session.release();
  };
  const predictor: Predictor = {
    engine: 'onnxruntime',
    async predict(x, n) {
      checkBatch(x, n, exported.inputShape);
      if (performance.now() - checked >= recheckMs) await (rechecking ??= recheck().finally(() => (rechecking = undefined)));
      const used = current;
      used.running++;
      try {
        const out = await used.session.run({ [exported.inputName]: new ort.Tensor('float32', x, [n, ...exported.inputShape]) });
        return out[exported.outputName].data as Float32Array;
      } finally {
        if (--used.running === 0 && used !== current) await used.session.release();
      }
    },
    dispose: () => current.session.release(),
  };
  return { predictor, pool: pool?.reason };
}

function checkBatch(x: Float32Array, n: number, shape: readonly number[]): void {
  const per = shape.reduce((a, b) => a * b, 1);
  if (x.length !== n * per) throw new Error(`predict: ${x.length} values for ${n} inputs of shape [${shape.join(', ')}]`);
}
