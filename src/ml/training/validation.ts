import * as tf from '../tf.ts';
import { rocAuc } from '../../ops/metrics/roc.ts';
import type { Predictor } from '../inference/predictor.ts';
import type { LogitsLoss, LossFn } from '../losses/index.ts';
import type { ImageLoader } from './image-loader.ts';

export interface ValidationResult {
  loss: number;
  /** Macro ROC-AUC over the classes that have both outcomes in the validation rows (NaN if none). */
  auc: number;
  scores: Float32Array[];
}

/**
 * Predicts the validation images in batches (no augmentation) with the epoch's predictor and scores them.
 * With `logits`, the predictor outputs the logits (objective.ts `logitsSide`): the loss is the training
 * loss's logits form (no clipping) and the scores are their sigmoid / softmax; else the predictor outputs
 * probabilities and the loss is computed on them (clipped at 1e-7).
 */
export async function validate(predictor: Predictor, loader: ImageLoader, images: readonly string[], targets: readonly Float32Array[], loss: LossFn, batch: number, logits?: LogitsLoss): Promise<ValidationResult> {
  const classes = targets[0]?.length ?? 0;
  const scores: Float32Array[] = [];
  let lossSum = 0;
  for (let start = 0; start < images.length; start += batch) {
    const ids = images.slice(start, start + batch);
    const outputs = await predictor.predict(await loader.batch(ids), ids.length);
    const yValues = new Float32Array(ids.length * classes);
    ids.forEach((_, i) => yValues.set(targets[start + i], i * classes));
    const { probs, l } = tf.tidy(() => {
      const y = tf.tensor2d(yValues, [ids.length, classes]);
      const out = tf.tensor2d(outputs, [ids.length, classes]);
      if (!logits) return { probs: outputs, l: loss(y, out).dataSync()[0] };
      const p = logits.activation === 'sigmoid' ? tf.sigmoid(out) : tf.softmax(out);
      return { probs: p.dataSync() as Float32Array, l: logits.loss(y, out).dataSync()[0] };
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
