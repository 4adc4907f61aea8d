import * as tf from '../tf.ts';
import type { DatasetRow } from '../../data-model.ts';
import type { AugmentRanges } from '../../ops/augment/affine.ts';
import { seededRandom } from '../../util/random.ts';
import { smoothLabels, type LossFn } from '../losses/index.ts';
import { createPredictor, type InferenceEngine } from '../inference/predictor.ts';
import type { Task } from '../models/index.ts';
import { augmentBatch, cutmixBatch, mixupBatch } from './batch-transforms.ts';
import type { CheckpointStore, EpochRecord } from './checkpoint.ts';
import { checkpointEpoch, restoreBest, resumeTraining } from './epoch-state.ts';
import type { DataParallel } from '../parallel/data-parallel.ts';
import type { ImageLoader } from './image-loader.ts';
import { makeOptimizer, setLearningRate, type OptimizerName } from './optimizer.ts';
import type { ExternalTrainer } from './train-engine.ts';
import { epochOrder } from './sampler.ts';
import { learningRate, observeEpoch, type ScheduleConfig } from './schedule.ts';
import { targetOf } from './targets.ts';
import type { Metric } from './selection.ts';
import { validate } from './validation.ts';

/** The optimisation settings every training loop shares. */
export interface OptimizationConfig {
  epochs: number;
  batch: number;
  seed: number;
  optimizer: OptimizerName;
  lr: number;
  momentum: number;
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

export interface TrainJob {
  model: tf.LayersModel;
  loader: ImageLoader;
  classes: string[];
  trainRows: DatasetRow[];
  valRows: DatasetRow[];
  /** The training loss (class weights included) and the one reported on validation. */
  loss: LossFn;
  config: TrainConfig;
  checkpoints: CheckpointStore;
  /** Worker threads computing shards of each batch (data-parallel); none: every step on this thread. */
  parallel?: DataParallel;
  /** Runs the optimizer steps instead of tfjs (ONNX Runtime): the loop writes its weights into `model` before validating and checkpointing. */
  trainer?: ExternalTrainer;
  signal: AbortSignal;
  log(message: string): void;
  onEpoch(record: EpochRecord): void;
  onProgress(done: number, total: number): void;
}

export interface TrainResult {
  history: EpochRecord[];
  bestEpoch: number;
  /** Epochs run by this call (the rest came from a checkpoint). */
  epochsRun: number;
  resumedFrom: number;
  stoppedEarly: boolean;
}

/**
 * The training loop: per epoch a seeded order of the training rows, batches decoded ahead of the running
 * step, augmentation / mixup / cutmix / label smoothing, one optimizer step per batch, validation, LR
 * schedule, best-checkpoint tracking and a checkpoint in the store (so a killed run resumes at the next
 * epoch). Leaves the best epoch's weights in `job.model`.
 */
export async function trainModel(job: TrainJob): Promise<TrainResult> {
  const { model, loader, config, checkpoints, classes } = job;
  const { size, channels } = loader.options;
  const optimizer = makeOptimizer(config.optimizer, config.lr, config.momentum);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const valImages = job.valRows.map((r) => r.image as string);
  const valTargets = job.valRows.map((r) => targetOf(r, classes));
  const softmax = config.task === 'multiclass';

  let { history, schedule, best, stopWatch, stopped, startEpoch } = await resumeTraining(job, optimizer, config.lr);

  const batchesPerEpoch = Math.ceil(job.trainRows.length / config.batch);
  const totalBatches = batchesPerEpoch * config.epochs;
  let epochsRun = 0;
  for (let epoch = startEpoch; epoch <= config.epochs && !stopped; epoch++) {
    const started = Date.now();
    const lr = learningRate(config.schedule, config.lr, epoch, config.epochs, schedule);
    setLearningRate(optimizer, lr);
    const random = seededRandom(config.seed * 100_003 + epoch);
    const order = epochOrder(job.trainRows, classes, config.balancedSampler, random);
    const batches: DatasetRow[][] = [];
    for (let i = 0; i < order.length; i += config.batch) batches.push(order.slice(i, i + config.batch));
    // A single-image last batch breaks batch norm statistics: fold it into the previous one.
    if (batches.length > 1 && batches[batches.length - 1].length === 1) batches[batches.length - 2].push(...batches.pop()!);

    let lossSum = 0;
    let seen = 0;
    let next = loader.batch(batches[0].map((r) => r.image as string));
    for (const [b, rows] of batches.entries()) {
      const pixels = await next;
      if (b + 1 < batches.length) next = loader.batch(batches[b + 1].map((r) => r.image as string));
      if (job.signal.aborted) {
        await next.catch(() => undefined);
        throw job.signal.reason ?? new Error('cancelled');
      }
      const targets = new Float32Array(rows.length * classes.length);
      rows.forEach((r, i) => targets.set(targetOf(r, classes), i * classes.length));
      const [x, y] = tf.tidy(() => {
        let x = tf.tensor4d(pixels, [rows.length, size, size, channels]);
        let y = tf.tensor2d(targets, [rows.length, classes.length]);
        if (config.augment) x = augmentBatch(x, config.augment, random);
        const mix = pickMix(config, random);
        if (mix === 'mixup') ({ x, y } = mixupBatch(x, y, config.mixup, random));
        if (mix === 'cutmix') ({ x, y } = cutmixBatch(x, y, config.cutmix, random));
        return [x, smoothLabels(y, config.labelSmoothing, softmax)];
      });
      let lossValue: number;
      if (job.trainer) lossValue = await job.trainer.step(x.dataSync() as Float32Array, y.dataSync() as Float32Array, rows.length, lr);
      else if (job.parallel) lossValue = await job.parallel.step(model, optimizer, job.loss, x, y);
      else lossValue = tf.tidy(() => optimizer.minimize(() => job.loss(y, model.apply(x, { training: true }) as tf.Tensor2D), true, vars)!.dataSync()[0]);
      tf.dispose([x, y]);
      if (!Number.isFinite(lossValue)) throw new Error(`training diverged at epoch ${epoch}, batch ${b + 1}: loss ${lossValue}; lower lr`);
      lossSum += lossValue * rows.length;
      seen += rows.length;
      job.onProgress((epoch - 1) * batchesPerEpoch + b + 1, totalBatches);
    }

    job.trainer?.writeToModel();
    const record: EpochRecord = { epoch, lr, train_loss: lossSum / seen, seconds: 0 };
    if (valImages.length > 0) {
      // Exported afresh each epoch (the weights changed): a few ms for the demo's small CNN, less than
      // ONNX Runtime saves over tfjs on its validation images (docs/training.md, "Inference engine").
      const predictor = await createPredictor(model, { ...config.inference, log: epoch === startEpoch ? job.log : undefined });
      try {
        const val = await validate(predictor, loader, valImages, valTargets, job.loss, config.batch);
        record.val_loss = val.loss;
        if (Number.isFinite(val.auc)) record.val_auc = val.auc;
      } finally {
        await predictor.dispose();
      }
    }
    record.seconds = (Date.now() - started) / 1000;
    history.push(record);
    schedule = observeEpoch(config.schedule, schedule, record.val_loss ?? record.train_loss);
    job.onEpoch(record);

    ({ best, stopWatch, stopped } = await checkpointEpoch(job, optimizer, { best, stopWatch }, { record, epochs: config.epochs, monitor: config.monitor, earlyStopping: config.earlyStopping, schedule, history }));
    epochsRun++;
  }
  optimizer.dispose();
  await restoreBest(job, best);
  return { history, bestEpoch: best?.epoch ?? 0, epochsRun, resumedFrom: startEpoch - 1, stoppedEarly: stopped };
}

function pickMix(config: TrainConfig, random: () => number): 'mixup' | 'cutmix' | null {
  if (config.mixup > 0 && config.cutmix > 0) return random() < 0.5 ? 'mixup' : 'cutmix';
  if (config.mixup > 0) return 'mixup';
  if (config.cutmix > 0) return 'cutmix';
  return null;
}
