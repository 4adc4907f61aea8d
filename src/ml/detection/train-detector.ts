import * as tf from '../tf.ts';
import type { Box, DatasetRow } from '../../data-model.ts';
import type { BoxAugmentRanges } from '../../ops/augment/box-augment.ts';
import { fromLetterbox } from '../../ops/boxes/letterbox.ts';
import { meanAveragePrecision } from '../../ops/boxes/map.ts';
import { seededRandom, shuffled } from '../../util/random.ts';
import { createPredictor, type InferenceEngine } from '../inference/predictor.ts';
import type { CheckpointStore, EpochRecord } from '../training/checkpoint.ts';
import { checkpointEpoch, restoreBest, resumeTraining } from '../training/epoch-state.ts';
import type { OptimizationConfig } from '../training/loop.ts';
import { makeOptimizer, setLearningRate } from '../training/optimizer.ts';
import { learningRate, observeEpoch } from '../training/schedule.ts';
import type { ExternalTrainer } from '../training/train-engine.ts';
import { targetChannels, type AnchorPoints, type AssignOptions } from './assign.ts';
import { buildBatch, letterboxedBoxes, type DetectionSample } from './batch.ts';
import { decodeDetections, type DecodeOptions } from './decode.ts';
import { CLASS_OFFSET } from './detector.ts';
import type { LetterboxLoader } from './letterbox-image.ts';
import { detectionLoss, type AnchorTensors, type DetectionLossOptions } from './loss.ts';

export interface DetectorTrainConfig extends OptimizationConfig {
  augment: BoxAugmentRanges | null;
  loss: DetectionLossOptions;
  assign: AssignOptions;
  decode: DecodeOptions;
  /** IoU threshold of the validation mAP (VOC all-point; default .5). */
  mapIou: number;
  monitor: 'val_map' | 'val_loss';
  /** Watched apart from `monitor` (selection.ts). */
  earlyStopping: { patience: number; metric: 'val_map' | 'val_loss' } | null;
  inference: { engine: InferenceEngine; threads?: number };
}

export interface DetectorTrainJob {
  model: tf.LayersModel;
  loader: LetterboxLoader;
  points: AnchorPoints;
  classes: string[];
  trainRows: DatasetRow[];
  valRows: DatasetRow[];
  config: DetectorTrainConfig;
  checkpoints: CheckpointStore;
  /** Runs the optimizer steps instead of tfjs (ONNX Runtime; targets are its `y`). */
  trainer?: ExternalTrainer;
  signal: AbortSignal;
  log(message: string): void;
  onEpoch(record: EpochRecord): void;
  onProgress(done: number, total: number): void;
}

export interface DetectorTrainResult {
  history: EpochRecord[];
  bestEpoch: number;
  stoppedEarly: boolean;
}

/**
 * The detection training loop, with the classification loop's contract (train/loop.ts): a seeded order
 * and augmentation stream per epoch, one optimizer step per batch (tfjs or an external trainer), validation
 * (loss and VOC mAP of the decoded boxes in original image pixels), LR schedule, best checkpoint,
 * early stopping and a checkpoint per epoch in the store, so a killed run resumes to the same weights.
 */
export async function trainDetector(job: DetectorTrainJob): Promise<DetectorTrainResult> {
  const { model, loader, config, classes, points } = job;
  const optimizer = makeOptimizer(config.optimizer, config.lr, config.momentum);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const anchors: AnchorTensors = { cx: tf.tensor1d(points.cx), cy: tf.tensor1d(points.cy), stride: tf.tensor1d(points.stride) };
  const k = targetChannels(classes.length);
  const outChannels = CLASS_OFFSET + classes.length;

  let { history, schedule, best, stopWatch, stopped, startEpoch } = await resumeTraining(job, optimizer, config.lr);

  const sample = async (row: DatasetRow): Promise<DetectionSample> => {
    const image = await loader.image(row.image as string);
    return { image, boxes: letterboxedBoxes(row.boxes, image) };
  };
  const batchesPerEpoch = Math.ceil(job.trainRows.length / config.batch);
  const totalBatches = batchesPerEpoch * config.epochs;
  try {
    for (let epoch = startEpoch; epoch <= config.epochs && !stopped; epoch++) {
      const started = Date.now();
      const lr = learningRate(config.schedule, config.lr, epoch, config.epochs, schedule);
      setLearningRate(optimizer, lr);
      const random = seededRandom(config.seed * 100_003 + epoch);
      const order = shuffled(job.trainRows, random);
      const batches: DatasetRow[][] = [];
      for (let i = 0; i < order.length; i += config.batch) batches.push(order.slice(i, i + config.batch));
      if (batches.length > 1 && batches[batches.length - 1].length === 1) batches[batches.length - 2].push(...batches.pop()!);
      // the mosaic partners of an epoch: decoded up front so the draw order (and so the result) does not depend on timing
      const all = job.config.augment && job.config.augment.mosaic > 0 ? await Promise.all(job.trainRows.map(sample)) : [];
      const pool = () => all[Math.floor(random() * all.length)];

      let lossSum = 0;
      let seen = 0;
      let next = Promise.all(batches[0].map(sample));
      for (const [b, rows] of batches.entries()) {
        const samples = await next;
        if (b + 1 < batches.length) next = Promise.all(batches[b + 1].map(sample));
        if (job.signal.aborted) {
          await next.catch(() => undefined);
          throw job.signal.reason ?? new Error('cancelled');
        }
        const { x, y } = buildBatch(samples, pool, { classes, points, assign: config.assign, augment: config.augment }, random);
        const n = rows.length;
        let lossValue: number;
        if (job.trainer) lossValue = await job.trainer.step(x, y, n, lr);
        else {
          lossValue = tf.tidy(() => {
            const xt = tf.tensor4d(x, [n, loader.height, loader.size, loader.channels]);
            const yt = tf.tensor3d(y, [n, points.count, k]);
            return optimizer.minimize(() => detectionLoss(model.apply(xt, { training: true }) as tf.Tensor3D, yt, anchors, config.loss).total, true, vars)!.dataSync()[0];
          });
        }
        if (!Number.isFinite(lossValue)) throw new Error(`training diverged at epoch ${epoch}, batch ${b + 1}: loss ${lossValue}; lower lr`);
        lossSum += lossValue * n;
        seen += n;
        job.onProgress((epoch - 1) * batchesPerEpoch + b + 1, totalBatches);
      }

      job.trainer?.writeToModel();
      const record: EpochRecord = { epoch, lr, train_loss: lossSum / seen, seconds: 0 };
      if (job.valRows.length > 0) {
        const val = await validateDetector(job, anchors, outChannels, epoch === startEpoch);
        record.val_loss = val.loss;
        if (Number.isFinite(val.map)) record.val_map = val.map;
      }
      record.seconds = (Date.now() - started) / 1000;
      history.push(record);
      schedule = observeEpoch(config.schedule, schedule, record.val_loss ?? record.train_loss);
      job.onEpoch(record);

      ({ best, stopWatch, stopped } = await checkpointEpoch(job, optimizer, { best, stopWatch }, { record, epochs: config.epochs, monitor: config.monitor, earlyStopping: config.earlyStopping, schedule, history }));
    }
  } finally {
    optimizer.dispose();
    tf.dispose([anchors.cx, anchors.cy, anchors.stride]);
  }
  await restoreBest(job, best);
  return { history, bestEpoch: best?.epoch ?? 0, stoppedEarly: stopped };
}

/** Validation loss (no augmentation) and mAP of the decoded boxes against the rows' boxes, in original pixels. */
async function validateDetector(job: DetectorTrainJob, anchors: AnchorTensors, outChannels: number, logEngine: boolean): Promise<{ loss: number; map: number }> {
  const { config, points, classes, loader } = job;
  const predictor = await createPredictor(job.model, { ...config.inference, log: logEngine ? job.log : undefined });
  const images: { truth: Box[]; predicted: Box[] }[] = [];
  let lossSum = 0;
  try {
    for (let start = 0; start < job.valRows.length; start += config.batch) {
      const rows = job.valRows.slice(start, start + config.batch);
      const samples = await Promise.all(rows.map(async (r) => {
        const image = await loader.image(r.image as string);
        return { image, boxes: letterboxedBoxes(r.boxes, image) };
      }));
      const { x, y } = buildBatch(samples, () => samples[0], { classes, points, assign: config.assign, augment: null }, () => 0);
      const raw = await predictor.predict(x, rows.length);
      lossSum += tf.tidy(() => detectionLoss(tf.tensor3d(raw, [rows.length, points.count, outChannels]), tf.tensor3d(y, [rows.length, points.count, targetChannels(classes.length)]), anchors, config.loss).total.dataSync()[0]) * rows.length;
      rows.forEach((r, i) => {
        const per = points.count * outChannels;
        const boxes = decodeDetections(raw.subarray(i * per, (i + 1) * per), points, classes, config.decode).map((b) => fromLetterbox(b, samples[i].image.geometry));
        images.push({ truth: r.boxes ?? [], predicted: boxes });
      });
    }
  } finally {
    await predictor.dispose();
  }
  return { loss: lossSum / job.valRows.length, map: meanAveragePrecision(images, classes, config.mapIou).map };
}
