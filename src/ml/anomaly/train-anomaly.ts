import * as tf from '../tf.ts';
import type { DatasetRow } from '../../data-model.ts';
import type { AugmentRanges } from '../../ops/augment/affine.ts';
import { rocAuc } from '../../ops/metrics/roc.ts';
import { shuffled } from '../../util/random.ts';
import { createPredictor, type InferenceEngine } from '../inference/predictor.ts';
import { augmentBatch } from '../training/batch-transforms.ts';
import type { EpochRecord } from '../training/checkpoint.ts';
import { runEpochs, type EpochJob, type EpochsResult } from '../training/epoch-loop.ts';
import type { ImageLoader } from '../training/image-loader.ts';
import type { OptimizationConfig } from '../training/loop.ts';
import { reconstructionLoss } from './autoencoder.ts';

export interface AnomalyTrainConfig extends OptimizationConfig {
  augment: AugmentRanges | null;
  /** val_auc: normal vs abnormal validation rows by score; val_loss: the normal validation rows' reconstruction error. */
  monitor: 'val_auc' | 'val_loss';
  earlyStopping: { patience: number; metric: 'val_auc' | 'val_loss' } | null;
  inference: { engine: InferenceEngine; threads?: number };
}

/** `model` is the autoencoder (its output: the flattened reconstruction), `trainRows` the normal rows only. */
export interface AnomalyTrainJob extends EpochJob<DatasetRow> {
  /** The scoring model over the autoencoder's layers (one anomaly score per image). */
  scorer: tf.LayersModel;
  loader: ImageLoader;
  /** Normal and abnormal rows, with `abnormal` telling which. */
  valRows: DatasetRow[];
  abnormal(row: DatasetRow): boolean;
  config: AnomalyTrainConfig;
}

/** What both detectors' trainings share: rows, loader, config, callbacks. */
export type AnomalyJobBase = Omit<AnomalyTrainJob, 'model' | 'scorer' | 'checkpoints' | 'trainer'>;

/**
 * The anomaly training loop, with the classification loop's contract (epoch-loop.ts): a seeded order and
 * augmentation stream per epoch over the normal rows, one optimizer step per batch reconstructing the batch
 * (tfjs or an external trainer), validation (the normal rows' reconstruction error as val_loss, the AUC of
 * the anomaly score between normal and abnormal rows as val_auc), LR schedule, best checkpoint, early
 * stopping and a checkpoint per epoch in the store, so a killed run resumes to the same weights.
 */
export async function trainAnomalyDetector(job: AnomalyTrainJob): Promise<EpochsResult> {
  const { model, loader, config } = job;
  const pixels = loader.pixelsPerImage;
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return runEpochs(job, {
    order: shuffled,
    load: (rows) => loader.batch(rows.map((r) => r.image as string)),
    async step(decoded, rows, { optimizer, lr, random }) {
      const n = rows.length;
      const x = imageBatch(decoded, n, loader, config.augment, random);
      try {
        if (!job.trainer) return tf.tidy(() => optimizer.minimize(() => reconstructionLoss(x.reshape([n, pixels]), model.apply(x, { training: true }) as tf.Tensor2D), true, vars)!.dataSync()[0]);
        const input = x.dataSync() as Float32Array;
        return await job.trainer.step(input, input, n, lr);
      } finally {
        x.dispose();
      }
    },
    validate: async (first) => (job.valRows.length > 0 ? validateScores(job, first) : {}),
  });
}

/** A decoded batch as NHWC images, augmented when the config says so (the augmented image is also the target). */
export function imageBatch(decoded: Float32Array, n: number, loader: ImageLoader, augment: AugmentRanges | null, random: () => number): tf.Tensor4D {
  const { size, channels } = loader.options;
  return tf.tidy(() => {
    const batch = tf.tensor4d(decoded, [n, size, size, channels]);
    return augment ? augmentBatch(batch, augment, random) : batch;
  });
}

/** Anomaly scores of the validation rows; val_loss over the normal ones, val_auc when both kinds are present. */
export async function validateScores(job: Pick<AnomalyTrainJob, 'loader' | 'config' | 'scorer' | 'valRows' | 'abnormal' | 'log'>, logEngine: boolean): Promise<Pick<EpochRecord, 'val_loss' | 'val_auc'>> {
  const { loader, config } = job;
  const predictor = await createPredictor(job.scorer, { ...config.inference, log: logEngine ? job.log : undefined });
  const scores: number[] = [];
  try {
    for (let start = 0; start < job.valRows.length; start += config.batch) {
      const ids = job.valRows.slice(start, start + config.batch).map((r) => r.image as string);
      scores.push(...(await predictor.predict(await loader.batch(ids), ids.length)));
    }
  } finally {
    await predictor.dispose();
  }
  const truth = job.valRows.map((r) => (job.abnormal(r) ? 1 : 0));
  const normal = scores.filter((_, i) => truth[i] === 0);
  const out: Pick<EpochRecord, 'val_loss' | 'val_auc'> = {};
  if (normal.length) out.val_loss = normal.reduce((a, b) => a + b, 0) / normal.length;
  if (normal.length && normal.length < scores.length) out.val_auc = rocAuc(truth, scores);
  return out;
}
