import * as tf from '../../../../src/ml/tf.ts';
import type { ModelSpec } from '../../../../src/ml/models/index.ts';
import { loadOnnxRuntime } from '../../../../src/ml/onnx/runtime.ts';

export const ort = await loadOnnxRuntime();
export const needsOrt = { skip: ort ? false : 'onnxruntime-node is not installed' };

/** The (capped) ReLU layers of a model and their kinks: 0, and the cap for ReLU(maxValue) / relu6. */
function reluKinks(model: tf.LayersModel): { layer: tf.layers.Layer; cap: number }[] {
  return model.layers.flatMap((l) => {
    const config = l.getConfig() as { activation?: string; maxValue?: number | null };
    if (l.getClassName() === 'ReLU') return [{ layer: l, cap: config.maxValue ?? Infinity }];
    if (l.getClassName() === 'Activation' && config.activation === 'relu') return [{ layer: l, cap: Infinity }];
    if (l.getClassName() === 'Activation' && config.activation === 'relu6') return [{ layer: l, cap: 6 }];
    return [];
  });
}

/**
 * The smallest distance of a pre-activation value to a ReLU kink in a training-mode forward pass of x.
 * Float32 engines sum in different orders, so a value within ~1e-6 of a kink can land on the other side
 * in one of them and move gradients by a discrete amount: bench/train-grad-check.ts shows against a
 * float64 reference that the whole difference between engines on such batches is these branch choices
 * (either engine may be the one that differs from float64). Gradient comparisons use batches without them.
 */
export function nearestKink(model: tf.LayersModel, x: tf.Tensor): number {
  const kinks = reluKinks(model);
  if (kinks.length === 0) return Infinity;
  const movingStats = model.nonTrainableWeights.map((w) => w.read().clone()); // the training-mode forward updates them
  const nearest = tf.tidy(() => {
    const inputs = tf.model({ inputs: model.inputs, outputs: kinks.map((k) => k.layer.input as tf.SymbolicTensor) }).apply(x, { training: true }) as tf.Tensor[];
    return Math.min(...inputs.map((t, i) => Math.min(tf.min(tf.abs(t)).dataSync()[0], Number.isFinite(kinks[i].cap) ? tf.min(tf.abs(tf.sub(t, kinks[i].cap))).dataSync()[0] : Infinity)));
  });
  model.nonTrainableWeights.forEach((w, i) => w.write(movingStats[i]));
  tf.dispose(movingStats);
  return nearest;
}

export interface Batch {
  x: tf.Tensor4D;
  y: tf.Tensor2D;
  xs: Float32Array;
  ys: Float32Array;
}

/** Uniform images and targets: one-hot for multi-class, else a fixed multi-hot pattern; `soft` mixes them (mixup / label smoothing). */
export function batch(spec: ModelSpec, n: number, seed: number, soft = false): Batch {
  const x = tf.randomUniform([n, spec.inputSize, spec.inputSize, spec.channels], 0, 1, 'float32', seed) as tf.Tensor4D;
  const hard = Array.from({ length: n * spec.classes }, (_, i) => (spec.task === 'multiclass' ? Number(i % spec.classes === (Math.floor(i / spec.classes) * 7) % spec.classes) : Number((i * 7) % 3 === 0)));
  const values = soft ? hard.map((v, i) => 0.85 * v + 0.15 * hard[(i + spec.classes) % hard.length] * 0.6 + 0.02) : hard;
  const y = tf.tensor2d(values, [n, spec.classes]);
  return { x, y, xs: x.dataSync() as Float32Array, ys: y.dataSync() as Float32Array };
}

/** The first batch from data seed `seed` on whose pre-activations are all at least `margin` away from a ReLU kink. */
export function kinkFreeBatch(model: tf.LayersModel, spec: ModelSpec, n: number, seed: number, soft = false, margin = 2e-6): Batch {
  for (let s = seed; s < seed + 40; s++) {
    const b = batch(spec, n, s, soft);
    if (nearestKink(model, b.x) > margin) return b;
    tf.dispose([b.x, b.y]);
  }
  throw new Error(`40 batches from data seed ${seed} all have a pre-activation within ${margin} of a ReLU kink`);
}
