import * as tf from '../tf.ts';
import type { DatasetRow } from '../../data-model.ts';
import type { AugmentRanges } from '../../ops/augment/affine.ts';
import { smoothLabels, type LossFn } from '../losses/index.ts';
import { createPredictor, type InferenceEngine } from '../inference/predictor.ts';
import type { Task } from '../models/index.ts';
import { augmentBatch, cutmixBatch, mixupBatch } from './batch-transforms.ts';
import { runEpochs, type EpochJob, type EpochsResult } from './epoch-loop.ts';
import type { DataParallel } from '../parallel/data-parallel.ts';
import type { ImageLoader } from './image-loader.ts';
import type { OptimizerName } from './optimizer.ts';
import { epochOrder } from './sampler.ts';
import type { ScheduleConfig } from './schedule.ts';
import { targetOf } from './targets.ts';
import type { Metric } from './selection.ts';
import { validate } from './validation.ts';
import { logitsSide, trainingObjective } from './objective.ts';

/** The optimisation settings every training loop shares. */
export interface OptimizationConfig {
  epochs: number;
  batch: number;
  seed: number;
  optimizer: OptimizerName;
  lr: number;
  momentum: number;
  /** Adam / RMSProp epsilon (undefined: tfjs's 1e-7). */
  epsilon?: number;
  schedule: ScheduleConfig;
}

export interface TrainConfig extends OptimizationConfig {
  labelSmoothing: number;
  /** Mixup alpha and CutMix beta (0: off). With both on, each batch uses one of them at random. */
  mixup: number;
  cutmix: number;
  augment: AugmentRanges | null;
  balancedSampler: boolean;
  /** The metric choosing the best checkpoint (the output model). */
  monitor: Metric;
  /** Stop when `metric` has not improved for `patience` epochs (independent of `monitor`, like Keras's callbacks). */
  earlyStopping: { patience: number; metric: Metric } | null;
  task: Task;
  /** Engine (and ONNX Runtime threads) of the per-epoch validation predictions. */
  inference: { engine: InferenceEngine; threads?: number };
}

export interface TrainJob extends EpochJob<DatasetRow> {
  loader: ImageLoader;
  classes: string[];
  valRows: DatasetRow[];
  /** The training loss (class weights included) and the one reported on validation. */
  loss: LossFn;
  config: TrainConfig;
  /** Worker threads computing shards of each batch (data-parallel); none: every step on this thread. */
  parallel?: DataParallel;
}

export type TrainResult = EpochsResult;

/**
 * The classification training loop (the epochs: epoch-loop.ts): per epoch a seeded order of the training
 * rows, augmentation / mixup / cutmix / label smoothing of each batch, one optimizer step per batch (tfjs,
 * data-parallel workers or an external trainer), validation (loss, macro AUC). Leaves the best epoch's
 * weights in `job.model`.
 */
export async function trainModel(job: TrainJob): Promise<TrainResult> {
  const { model, loader, config, classes } = job;
  const { size, channels } = loader.options;
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const valImages = job.valRows.map((r) => r.image as string);
  const valTargets = job.valRows.map((r) => targetOf(r, classes));
  const softmax = config.task === 'multiclass';
  const objective = trainingObjective(model, job.loss);
  // validation predicts the logits where training uses them, so val_loss is the training loss's formula
  const logits = logitsSide(model, job.loss);
  /** A batch's images and targets as trained: augmented, mixed (drawing from `random`), labels smoothed. */
  const batchTensors = (pixels: Float32Array, rows: DatasetRow[], random: () => number): [tf.Tensor4D, tf.Tensor2D] => {
    const targets = new Float32Array(rows.length * classes.length);
    rows.forEach((r, i) => targets.set(targetOf(r, classes), i * classes.length));
    return tf.tidy(() => {
      let x = tf.tensor4d(pixels, [rows.length, size, size, channels]);
      let y = tf.tensor2d(targets, [rows.length, classes.length]);
      if (config.augment) x = augmentBatch(x, config.augment, random);
      const mix = pickMix(config, random);
      if (mix === 'mixup') ({ x, y } = mixupBatch(x, y, config.mixup, random));
      if (mix === 'cutmix') ({ x, y } = cutmixBatch(x, y, config.cutmix, random));
      return [x, smoothLabels(y, config.labelSmoothing, softmax)];
    });
  };
  return runEpochs(job, {
    order: (rows, random) => epochOrder(rows, classes, config.balancedSampler, random),
    load: (rows) => loader.batch(rows.map((r) => r.image as string)),
    async step(pixels, rows, { optimizer, lr, random }) {
      const [x, y] = batchTensors(pixels, rows, random);
      try {
        if (job.trainer) return await job.trainer.step(x.dataSync() as Float32Array, y.dataSync() as Float32Array, rows.length, lr);
        if (job.parallel) return await job.parallel.step(model, optimizer, job.loss, x, y);
        return tf.tidy(() => optimizer.minimize(() => objective(x, y), true, vars)!.dataSync()[0]);
      } finally {
        tf.dispose([x, y]);
      }
    },
    prepare(pixels, rows, { random }) {
      const [x, y] = batchTensors(pixels, rows, random);
      try {
        return { xs: [x.dataSync() as Float32Array], y: y.dataSync() as Float32Array };
      } finally {
        tf.dispose([x, y]);
      }
    },
    async validate(first) {
      if (valImages.length === 0) return {};
      // Exported afresh each epoch (the weights changed): a few ms for the demo's small CNN, less than
      // ONNX Runtime saves over tfjs on its validation images (docs/training.md, "Inference engine").
      const predictor = await createPredictor(logits?.view ?? model, { ...config.inference, log: first ? job.log : undefined });
      try {
        const val = await validate(predictor, loader, valImages, valTargets, job.loss, config.batch, logits);
        return Number.isFinite(val.auc) ? { val_loss: val.loss, val_auc: val.auc } : { val_loss: val.loss };
      } finally {
        await predictor.dispose();
      }
    },
  });
}

function pickMix(config: TrainConfig, random: () => number): 'mixup' | 'cutmix' | null {
  if (config.mixup > 0 && config.cutmix > 0) return random() < 0.5 ? 'mixup' : 'cutmix';
  if (config.mixup > 0) return 'mixup';
  if (config.cutmix > 0) return 'cutmix';
  return null;
}
