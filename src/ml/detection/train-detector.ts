import * as tf from '../tf.ts';
import type { Box, DatasetRow } from '../../data-model.ts';
import type { BoxAugmentRanges } from '../../ops/augment/box-augment.ts';
import { fromLetterbox } from '../../ops/boxes/letterbox.ts';
import { meanAveragePrecision } from '../../ops/boxes/map.ts';
import { shuffled } from '../../util/random.ts';
import { createPredictor, type InferenceEngine } from '../inference/predictor.ts';
import { runEpochs, type EpochJob, type EpochsResult } from '../training/epoch-loop.ts';
import type { OptimizationConfig } from '../training/loop.ts';
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

export interface DetectorTrainJob extends EpochJob<DatasetRow> {
  loader: LetterboxLoader;
  points: AnchorPoints;
  classes: string[];
  valRows: DatasetRow[];
  config: DetectorTrainConfig;
}

/**
 * The detection training loop, with the classification loop's contract (train/loop.ts): a seeded order
 * and augmentation stream per epoch, one optimizer step per batch (tfjs or an external trainer), validation
 * (loss and VOC mAP of the decoded boxes in original image pixels), LR schedule, best checkpoint,
 * early stopping and a checkpoint per epoch in the store, so a killed run resumes to the same weights.
 */
export async function trainDetector(job: DetectorTrainJob): Promise<EpochsResult> {
  const { model, loader, config, classes, points } = job;
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const anchors: AnchorTensors = { cx: tf.tensor1d(points.cx), cy: tf.tensor1d(points.cy), stride: tf.tensor1d(points.stride) };
  const k = targetChannels(classes.length);
  const outChannels = CLASS_OFFSET + classes.length;
  const sample = async (row: DatasetRow): Promise<DetectionSample> => {
    const image = await loader.image(row.image as string);
    return { image, boxes: letterboxedBoxes(row.boxes, image) };
  };
  // the mosaic partners of an epoch: decoded up front so the draw order (and so the result) does not depend on timing
  let all: DetectionSample[] = [];
  try {
    return await runEpochs(job, {
      order: shuffled,
      beforeEpoch: async () => {
        all = config.augment && config.augment.mosaic > 0 ? await Promise.all(job.trainRows.map(sample)) : [];
      },
      load: (rows) => Promise.all(rows.map(sample)),
      async step(samples, rows, { optimizer, lr, random }) {
        const pool = () => all[Math.floor(random() * all.length)];
        const { x, y } = buildBatch(samples, pool, { classes, points, assign: config.assign, augment: config.augment }, random);
        const n = rows.length;
        if (job.trainer) return job.trainer.step(x, y, n, lr);
        return tf.tidy(() => {
          const xt = tf.tensor4d(x, [n, loader.height, loader.size, loader.channels]);
          const yt = tf.tensor3d(y, [n, points.count, k]);
          return optimizer.minimize(() => detectionLoss(model.apply(xt, { training: true }) as tf.Tensor3D, yt, anchors, config.loss).total, true, vars)!.dataSync()[0];
        });
      },
      async validate(first) {
        if (job.valRows.length === 0) return {};
        const val = await validateDetector(job, anchors, outChannels, first);
        return Number.isFinite(val.map) ? { val_loss: val.loss, val_map: val.map } : { val_loss: val.loss };
      },
    });
  } finally {
    tf.dispose([anchors.cx, anchors.cy, anchors.stride]);
  }
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
