import * as tf from '../tf.ts';
import { rocAuc } from '../../ops/metrics/roc.ts';
import type { LossFn } from '../losses/index.ts';
import type { ImageLoader } from './image-loader.ts';

export interface ValidationResult {
  loss: number;
  /** Macro ROC-AUC over the classes that have both outcomes in the validation rows (NaN if none). */
  auc: number;
  scores: Float32Array[];
}

/** Predicts the validation images in batches (no augmentation) and scores them. */
export async function validate(model: tf.LayersModel, loader: ImageLoader, images: readonly string[], targets: readonly Float32Array[], loss: LossFn, batch: number): Promise<ValidationResult> {
  const { size, channels } = loader.options;
  const classes = targets[0]?.length ?? 0;
  const scores: Float32Array[] = [];
  let lossSum = 0;
  for (let start = 0; start < images.length; start += batch) {
    const ids = images.slice(start, start + batch);
    const pixels = await loader.batch(ids);
    const yValues = new Float32Array(ids.length * classes);
    ids.forEach((_, i) => yValues.set(targets[start + i], i * classes));
    const [probs, l] = tf.tidy(() => {
      const x = tf.tensor4d(pixels, [ids.length, size, size, channels]);
      const p = model.predict(x) as tf.Tensor2D;
      return [p.dataSync() as Float32Array, loss(tf.tensor2d(yValues, [ids.length, classes]), p).dataSync()[0]];
    });
    lossSum += l * ids.length;
    for (let i = 0; i < ids.length; i++) scores.push(probs.slice(i * classes, (i + 1) * classes));
  }
  return { loss: lossSum / Math.max(1, images.length), auc: macroAuc(targets, scores), scores };
}

export function macroAuc(targets: readonly Float32Array[], scores: readonly Float32Array[]): number {
  const classes = targets[0]?.length ?? 0;
  const aucs: number[] = [];
  for (let k = 0; k < classes; k++) {
    const truth = targets.map((t) => (t[k] >= 0.5 ? 1 : 0));
    const positives = truth.filter((v) => v === 1).length;
    if (positives === 0 || positives === truth.length) continue;
    aucs.push(rocAuc(truth, scores.map((s) => s[k] as number)));
  }
  return aucs.length ? aucs.reduce((a, b) => a + b, 0) / aucs.length : NaN;
}
