import type { ArtifactDraft } from '../engine/artifact.ts';
import type { DatasetRow } from '../data-model.ts';
import { StageInputError, type StageContext, type StageInput } from '../engine/stage.ts';
import { trainingRows, validationRows } from '../ops/splits/fold-parts.ts';
import { fingerprint } from '../util/hash.ts';
import { initBackend, wasmThreads } from '../ml/backend.ts';
import { loadModel, saveModelFiles } from '../ml/model-io.ts';
import { anchorPoints } from '../ml/detection/assign.ts';
import { buildDetector, detectorBackbones, pyramidLevels, type DetectorBackbone, type DetectorSpec } from '../ml/detection/detector.ts';
import { LetterboxLoader } from '../ml/detection/letterbox-image.ts';
import { createDetectionTrainer } from '../ml/detection/detection-engine.ts';
import { trainDetector } from '../ml/detection/train-detector.ts';
import { CheckpointStore } from '../ml/training/checkpoint.ts';
import { TRAIN_VERSION, type TrainParams } from './train-params.ts';
import { DetectionParams, decodeOptions } from './train-detection-params.ts';
import { bestEpochMetrics, epochReporter, foldOf, isSet, optimizationConfig, pickInputs, requireImages, startFrom } from './train.run.ts';
import { modelFromFile } from './train-tfjs-weights.ts';

/** Parameters of the classification path that mean nothing for a detector (an error when set). */
const CLASSIFICATION_ONLY = ['loss', 'mixup', 'cutmix', 'augment', 'label_smoothing', 'class_balanced', 'balanced_sampler', 'dropout', 'normalize'] as const;

/** `train` with `task: detection`: an anchor-free one-stage detector (docs/detection.md). */
export async function runDetection(ctx: StageContext, inputs: StageInput[], params: TrainParams): Promise<ArtifactDraft> {
  const options = params.detection ?? DetectionParams.parse({});
  const misplaced = CLASSIFICATION_ONLY.filter((k) => isSet(params[k]));
  if (misplaced.length) throw new StageInputError(`train: ${misplaced.join(', ')} ${misplaced.length > 1 ? 'are' : 'is'} for classification, not task: detection`, 'box augmentation and the detector loss are under detection: (augment, focal, box_weight)');
  if (!(detectorBackbones as readonly string[]).includes(params.model)) throw new StageInputError(`train: model ${params.model} is not a detector backbone`, `use one of ${detectorBackbones.join(', ')}`);
  if (params.size % 32 !== 0) throw new StageInputError(`train: size ${params.size} for a detector is not a multiple of 32`, `use ${Math.max(32, Math.round(params.size / 32) * 32)}`);
  const height = options.height ?? params.size;
  if (height % 32 !== 0) throw new StageInputError(`train: detection.height ${height} is not a multiple of 32`, `use ${Math.max(32, Math.round(height / 32) * 32)}`);
  if (params.workers > 1) throw new StageInputError('train: workers > 1 is not implemented for task: detection', 'use workers: 1 (folds already train in parallel)');
  const { data, init } = pickInputs(inputs);
  const backend = await initBackend(params.backend, (m) => ctx.log.info(m));
  const rows = await ctx.readRows<DatasetRow>(data.artifact);
  const fold = foldOf(ctx, params.fold);
  const train = trainingRows(rows, fold);
  const val = validationRows(rows, fold);
  requireImages([...train, ...val], data.stage);
  const classes = options.classes ?? [...new Set(train.flatMap((r) => (r.boxes ?? []).map((b) => b.label)))].sort();
  if (classes.length === 0) throw new StageInputError(`train: no boxes in the training rows from ${data.stage}`, 'a detector needs rows with `boxes` (ingest with a box label format)');
  if (train.length < 2) throw new StageInputError(`train: ${train.length} training rows for ${fold === undefined ? 'split train' : `fold ${fold}`} in the dataset from ${data.stage}`, 'run kfold or holdout upstream, or set fold:');
  const counts = classes.map((c) => train.reduce((n, r) => n + (r.boxes ?? []).filter((b) => b.label === c).length, 0));
  ctx.log.info(`train detector ${params.model} ${params.size}${height === params.size ? '' : `x${height}`}px, ${fold === undefined ? 'holdout' : `fold ${fold}`}: ${train.length} training / ${val.length} validation images, boxes ${classes.map((c, k) => `${c}=${counts[k]}`).join(', ')}`);

  const spec: DetectorSpec = { backbone: params.model as DetectorBackbone, inputSize: params.size, inputHeight: height, channels: params.channels, classes: classes.length, seed: params.seed, width: params.width, neck: options.neck, neckChannels: options.neck_channels, headConvs: options.head_convs, head: options.head };
  const model = buildDetector(spec);
  if (params.weights) await startFrom(ctx, model, await modelFromFile(ctx.resolvePath(params.weights), params.weights), `weights ${params.weights}`);
  if (init) await startFrom(ctx, model, await loadModel(ctx.store, init.artifact), `the model of ${init.stage}`);

  const { epochs: _e, cache_mb: _c, inference: _i, engine: _g, ...identity } = params;
  const checkpoints = new CheckpointStore(ctx.store, fingerprint({ stage: 'train', version: TRAIN_VERSION, params: identity, detection: options, classes, data: data.artifact.digest, init: init?.artifact.digest, fold }));
  if (ctx.forced) await checkpoints.clear();
  const detectionMetric = (metric: string) => (metric === 'val_loss' ? 'val_loss' : 'val_map');
  const monitor = detectionMetric(params.monitor);
  const points = anchorPoints(pyramidLevels(params.size, height), options.level_range);
  const loss = { alpha: options.focal.alpha, gamma: options.focal.gamma, boxWeight: options.box_weight };
  const trainer = await createDetectionTrainer(model, { engine: params.engine, optimizer: params.optimizer, momentum: params.momentum, epsilon: params.epsilon, loss, points, classes: classes.length, threads: wasmThreads(), log: (m) => ctx.log.info(m) });
  const result = await trainDetector({
    model,
    loader: new LetterboxLoader(ctx.store, params.size, params.channels, params.cache_mb * 2 ** 20, height),
    points,
    classes,
    trainRows: train,
    valRows: val,
    config: {
      ...optimizationConfig(params),
      augment: options.augment,
      loss,
      assign: { radius: options.radius },
      decode: decodeOptions(options.decode),
      mapIou: options.map_iou,
      monitor,
      earlyStopping: params.early_stopping ? { patience: params.early_stopping.patience, metric: detectionMetric(params.early_stopping.metric ?? params.monitor) } : null,
      inference: { engine: params.inference, threads: wasmThreads() },
    },
    checkpoints,
    trainer,
    signal: ctx.signal,
    log: (m) => ctx.log.info(m),
    onEpoch: epochReporter(ctx, params.epochs, 'val_map'),
    onProgress: (done, total) => ctx.progress({ done, total }),
  }).finally(() => trainer?.dispose());

  const metrics = bestEpochMetrics(result, 'val_map');
  const files = await saveModelFiles(model);
  model.dispose();
  return {
    kind: 'model',
    files,
    meta: {
      classes,
      task: 'detection',
      inputSize: params.size,
      inputHeight: height,
      channels: params.channels,
      arch: params.model,
      detector: { neck: options.neck, neck_channels: options.neck_channels, head_convs: options.head_convs, head: options.head, strides: pyramidLevels(params.size, height).map((l) => l.stride), level_range: options.level_range, letterbox: true },
      decode: options.decode,
      map_iou: options.map_iou,
      fold,
      dataset: data.artifact.digest,
      rows: { train: train.length, val: val.length },
      backend,
      history: result.history.map(({ seconds: _seconds, ...epoch }) => epoch),
      best_epoch: result.bestEpoch,
      stopped_early: result.stoppedEarly,
      metrics,
    },
  };
}
