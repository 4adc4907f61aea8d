import type { ArtifactDraft } from '../engine/artifact.ts';
import type { DatasetRow } from '../data-model.ts';
import { StageInputError, type StageContext, type StageInput } from '../engine/stage.ts';
import { trainingRows, validationRows } from '../ops/splits/fold-parts.ts';
import { fingerprint } from '../util/hash.ts';
import { ABNORMAL, anomalyKind } from '../evaluation/anomaly-labels.ts';
import { initBackend, wasmThreads } from '../ml/backend.ts';
import { LEVELS, buildAutoencoder, buildScoreModel } from '../ml/anomaly/autoencoder.ts';
import { createAnomalyTrainer } from '../ml/anomaly/anomaly-engine.ts';
import { trainAnomalyDetector } from '../ml/anomaly/train-anomaly.ts';
import type { AnomalyJobBase } from '../ml/anomaly/train-anomaly.ts';
import type { EpochsResult } from '../ml/training/epoch-loop.ts';
import { requireFanoganParams, trainFanoganDetector } from './train-fanogan.run.ts';
import { loadModel, saveModelFiles } from '../ml/model-io.ts';
import { CheckpointStore } from '../ml/training/checkpoint.ts';
import { ImageLoader } from '../ml/training/image-loader.ts';
import { TRAIN_VERSION, type TrainParams } from './train-params.ts';
import { AnomalyParams } from './train-anomaly-params.ts';
import { isOnnxPath } from './train-onnx-weights.ts';
import { bestEpochMetrics, epochReporter, foldOf, isSet, optimizationConfig, pickInputs, requireImages, startFrom } from './train.run.ts';
import { modelFromFile } from './train-tfjs-weights.ts';

/** Parameters of the classification path that mean nothing for an autoencoder (an error when set). */
const CLASSIFICATION_ONLY = ['loss', 'mixup', 'cutmix', 'label_smoothing', 'class_balanced', 'balanced_sampler', 'dropout', 'normalize', 'detection'] as const;

/** `train` with `task: anomaly`: a convolutional autoencoder or f-AnoGAN trained on the normal rows only (docs/training.md). */
export async function runAnomaly(ctx: StageContext, inputs: StageInput[], params: TrainParams): Promise<ArtifactDraft> {
  const options = params.anomaly ?? AnomalyParams.parse({});
  const misplaced = CLASSIFICATION_ONLY.filter((k) => isSet(params[k]));
  if (misplaced.length) throw new StageInputError(`train: ${misplaced.join(', ')} ${misplaced.length > 1 ? 'are' : 'is'} for classification, not task: anomaly`, 'the autoencoder reconstructs images (loss: mean squared error); its options are width and anomaly: { normal, bottleneck }');
  if (params.model !== 'small-cnn') throw new StageInputError(`train: model ${params.model} is a classifier; task: anomaly trains its own autoencoder`, 'remove model: (size it with width: and anomaly.bottleneck)');
  if (params.monitor === 'val_map' || params.early_stopping && params.early_stopping.metric === 'val_map') throw new StageInputError('train: val_map is for task: detection', 'use val_auc or val_loss');
  if (params.size % 2 ** LEVELS !== 0) throw new StageInputError(`train: size ${params.size} for the autoencoder is not a multiple of ${2 ** LEVELS}`, `use ${Math.max(16, Math.round(params.size / 16) * 16)}`);
  if (params.workers > 1) throw new StageInputError('train: workers > 1 is not implemented for task: anomaly', 'use workers: 1');
  if (isOnnxPath(params.weights)) throw new StageInputError(`train: ONNX weights (${params.weights}) are for the zoo's classifiers`, 'start an autoencoder from the model.json of an earlier task: anomaly model, or from: { data: ..., init: <anomaly train stage> }');
  const { data, init } = pickInputs(inputs);
  const backend = await initBackend(params.backend, (m) => ctx.log.info(m));
  const rows = await ctx.readRows<DatasetRow>(data.artifact);
  const fold = foldOf(ctx, params.fold);
  const labelled = (rs: DatasetRow[]) => rs.filter((r) => anomalyKind(r.labels, options.normal) !== 'unlabelled');
  const candidates = trainingRows(rows, fold);
  const train = candidates.filter((r) => anomalyKind(r.labels, options.normal) === 'normal');
  const val = labelled(validationRows(rows, fold));
  requireNormalLabel(rows, options.normal, data.stage);
  requireImages([...train, ...val], data.stage);
  if (train.length < 2) throw new StageInputError(`train: ${train.length} normal ("${options.normal}") training rows for ${fold === undefined ? 'split train' : `fold ${fold}`} in the dataset from ${data.stage}`, fold === undefined ? 'run kfold or holdout upstream, or set fold:' : 'check the fold number against the kfold stage k');
  const abnormalVal = val.filter((r) => anomalyKind(r.labels, options.normal) === 'abnormal').length;
  const skipped = candidates.length - train.length;
  if (options.method === 'f-anogan') requireFanoganParams(params, init);
  ctx.log.info(`train anomaly ${options.method} ${params.size}px, ${fold === undefined ? 'holdout' : `fold ${fold}`}: ${train.length} normal ("${options.normal}") training rows (${skipped} other training rows left out), ${val.length} validation rows (${abnormalVal} abnormal)`);

  const { epochs: _e, cache_mb: _c, inference: _i, engine: _g, ...identity } = params;
  const checkpointKey = (phase?: string) => fingerprint({ stage: 'train', version: TRAIN_VERSION, params: identity, anomaly: options, data: data.artifact.digest, init: init?.artifact.digest, fold, ...(phase ? { phase } : {}) });
  const metric = (m: TrainParams['monitor']): 'val_loss' | 'val_auc' => (m === 'val_loss' ? 'val_loss' : 'val_auc');
  const loader = new ImageLoader(ctx.store, { size: params.size, channels: params.channels }, params.cache_mb * 2 ** 20);
  const job: AnomalyJobBase = {
    loader,
    trainRows: train,
    valRows: val,
    abnormal: (r: DatasetRow) => anomalyKind(r.labels, options.normal) === 'abnormal',
    config: {
      ...optimizationConfig(params),
      augment: params.augment,
      monitor: metric(params.monitor),
      earlyStopping: params.early_stopping ? { patience: params.early_stopping.patience, metric: metric(params.early_stopping.metric ?? params.monitor) } : null,
      inference: { engine: params.inference, threads: wasmThreads() },
    },
    signal: ctx.signal,
    log: (m: string) => ctx.log.info(m),
    onEpoch: epochReporter(ctx, params.epochs, 'val_auc'),
    onProgress: (done: number, total: number) => ctx.progress({ done, total }),
  };
  const trained = options.method === 'f-anogan' ? await trainFanoganDetector(ctx, params, options, job, checkpointKey) : await trainAutoencoder(ctx, params, options, job, checkpointKey(), init);
  return {
    kind: 'model',
    files: trained.files,
    meta: {
      // tta, ensemble and evaluate see a binary classifier of one class, `abnormal`, scored by the detector's anomaly score
      classes: [ABNORMAL],
      task: 'binary',
      anomaly: trained.anomaly,
      inputSize: params.size,
      channels: params.channels,
      arch: trained.arch,
      fold,
      dataset: data.artifact.digest,
      rows: { train: train.length, val: val.length, left_out: skipped },
      backend,
      history: trained.result.history.map(({ seconds: _seconds, ...epoch }) => epoch),
      best_epoch: trained.result.bestEpoch,
      stopped_early: trained.result.stoppedEarly,
      metrics: bestEpochMetrics(trained.result, 'val_auc'),
    },
  };
}

/** What a detector's training gives the stage's artifact. */
export interface TrainedDetector {
  files: Record<string, Uint8Array | string>;
  /** The epochs that chose the output model (f-AnoGAN: the encoder's). */
  result: EpochsResult;
  arch: string;
  anomaly: Record<string, unknown>;
}

/** The autoencoder's training (ONNX Runtime or tfjs) and its scoring model's files. */
async function trainAutoencoder(ctx: StageContext, params: TrainParams, options: AnomalyParams, job: AnomalyJobBase, key: string, init: StageInput | undefined): Promise<TrainedDetector> {
  const model = buildAutoencoder({ inputSize: params.size, channels: params.channels, seed: params.seed, width: params.width, bottleneck: options.bottleneck });
  if (params.weights) await startFrom(ctx, model, await modelFromFile(ctx.resolvePath(params.weights), params.weights), `weights ${params.weights}`);
  if (init) await startFrom(ctx, model, await loadModel(ctx.store, init.artifact), `the model of ${init.stage}`);
  const scorer = buildScoreModel(model);
  const checkpoints = new CheckpointStore(ctx.store, key);
  if (ctx.forced) await checkpoints.clear();
  const trainer = await createAnomalyTrainer(model, { engine: params.engine, optimizer: params.optimizer, momentum: params.momentum, epsilon: params.epsilon, pixels: job.loader.pixelsPerImage, threads: wasmThreads(), log: job.log });
  const result = await trainAnomalyDetector({ ...job, model, scorer, checkpoints, trainer }).finally(() => trainer?.dispose());
  const files = await saveModelFiles(scorer);
  model.dispose();
  return { files, result, arch: 'autoencoder', anomaly: { normal: options.normal, method: 'autoencoder', bottleneck: options.bottleneck, score: 'reconstruction mean squared error' } };
}

/** The normal label must be one of the dataset's labels (a typo would otherwise leave nothing to train on). */
function requireNormalLabel(rows: readonly DatasetRow[], normal: string, upstream: string): void {
  const labels = new Set(rows.flatMap((r) => r.labels ?? []));
  if (labels.has(normal)) return;
  const present = [...labels].sort();
  throw new StageInputError(`train: anomaly.normal "${normal}" is not a label of the dataset from ${upstream} (labels: ${present.length ? present.slice(0, 20).join(', ') + (present.length > 20 ? `, ... ${present.length} in all` : '') : 'none'})`, `set anomaly: { normal: <the label of normal images> }`);
}
