import type { ArtifactDraft } from '../engine/artifact.ts';
import type { DatasetRow } from '../data-model.ts';
import { StageInputError, type StageContext, type StageInput } from '../engine/stage.ts';
import { trainingRows, validationRows } from '../ops/splits/fold-parts.ts';
import { fingerprint } from '../util/hash.ts';
import { initBackend, wasmThreads } from '../ml/backend.ts';
import { defaultLoss, effectiveNumberWeights, makeLoss } from '../ml/losses/index.ts';
import { loadModel, saveModelFiles } from '../ml/model-io.ts';
import { buildModel, resolveStem, type ModelSpec, type Task } from '../ml/models/index.ts';
import { DataParallel } from '../ml/parallel/data-parallel.ts';
import type * as tf from '../ml/tf.ts';
import { CheckpointStore, type EpochRecord } from '../ml/training/checkpoint.ts';
import { ImageLoader } from '../ml/training/image-loader.ts';
import { trainModel, type OptimizationConfig } from '../ml/training/loop.ts';
import { createExternalTrainer } from '../ml/training/train-engine.ts';
import { classCounts, classesOf, inferTask } from '../ml/training/targets.ts';
import { transferWeights } from '../ml/training/weights-io.ts';
import { inputNormalizationOf } from '../ml/layers/input-normalization.ts';
import { resolveNormalization } from '../ml/normalize-param.ts';
import { TRAIN_VERSION, type TrainParams } from './train-params.ts';
import { isOnnxPath, startFromOnnx } from './train-onnx-weights.ts';
import { modelFromFile } from './train-tfjs-weights.ts';

/** The implementation of the stage, imported on first run (it loads TensorFlow.js). */
export async function run(ctx: StageContext, inputs: StageInput[], params: TrainParams): Promise<ArtifactDraft> {
  if (params.task === 'detection') return (await import('./train-detection.run.ts')).runDetection(ctx, inputs, params);
  if (params.task === 'anomaly') return (await import('./train-anomaly.run.ts')).runAnomaly(ctx, inputs, params);
  if (params.detection) throw new StageInputError('train: `detection` options are for task: detection', 'set task: detection, or remove detection:');
  if (params.anomaly) throw new StageInputError('train: `anomaly` options are for task: anomaly', 'set task: anomaly, or remove anomaly:');
  const { data, init } = pickInputs(inputs);
  const backend = await initBackend(params.backend, (m) => ctx.log.info(m));
  const rows = await ctx.readRows<DatasetRow>(data.artifact);
  const classes = classesOf(rows, data.artifact.meta);
  if (classes.length === 0) throw new StageInputError(`train: dataset from ${data.stage} has no classes`, 'rows need `labels` (or the dataset meta.classes)');
  const task: Task = params.task === 'auto' ? inferTask(rows, classes, data.artifact.meta.task) : params.task;
  const fold = foldOf(ctx, params.fold);
  const train = trainingRows(rows, fold);
  const val = validationRows(rows, fold);
  requireImages([...train, ...val], data.stage);
  if (train.length < 2) {
    throw new StageInputError(
      `train: ${train.length} training rows for ${fold === undefined ? 'split train' : `fold ${fold}`} in the dataset from ${data.stage}`,
      fold === undefined ? 'run kfold or holdout upstream, or set fold:' : 'check the fold number against the kfold stage k',
    );
  }
  const counts = classCounts(train, classes);
  ctx.log.info(`train ${params.model} ${params.size}px ${task}, ${fold === undefined ? 'holdout' : `fold ${fold}`}: ${train.length} training / ${val.length} validation rows, classes ${classes.map((c, k) => `${c}=${counts[k]}`).join(', ')}${resizeNote(train, params.size)}`);

  if (data.artifact.meta.channels === 3 && params.channels === 1) ctx.log.warn(`the images of ${data.stage} are RGB (meta.channels 3) but channels: 1 trains on their grey: set channels: 3 to keep the colour`);
  const spec = modelSpecOf(params, classes.length, task);
  const stem = spec.stem;
  const model = buildModel(spec);
  if (isOnnxPath(params.weights)) await startFromOnnx(ctx, model, params.weights!);
  else if (params.weights) await startFrom(ctx, model, await modelFromFile(ctx.resolvePath(params.weights), params.weights), `weights ${params.weights}`);
  if (init) await startFrom(ctx, model, await loadModel(ctx.store, init.artifact), `the model of ${init.stage}`);

  const classWeights = classWeightsFor(params.class_balanced, data.artifact.meta, classes, counts);
  const lossConfig = params.loss ?? defaultLoss(task);
  // The inference engine is left out (like the cache size): validation scores agree to float rounding.
  // So is the training engine: an execution detail like the tfjs backend (ONNX Runtime's gradients equal
  // tfjs's to float rounding), so a checkpoint of either engine resumes on the other.
  // `epochs` is left out so that a rerun with more epochs continues; early stopping is in (its state is
  // checkpointed, and a resume must not compare scores of another metric).
  const { epochs: _e, cache_mb: _c, inference: _i, engine: _g, ...identity } = params;
  const checkpoints = new CheckpointStore(ctx.store, fingerprint({ stage: 'train', version: TRAIN_VERSION, params: identity, data: data.artifact.digest, init: init?.artifact.digest, fold }));
  if (ctx.forced) await checkpoints.clear();
  const monitor = params.monitor;
  const stopMetric = (params.early_stopping && params.early_stopping.metric) || monitor;
  if (monitor === 'val_map' || stopMetric === 'val_map') throw new StageInputError('train: monitor val_map is for task: detection', 'use val_auc or val_loss for classification');
  // ONNX Runtime gets this worker's share of the cores, like the wasm backend
  const trainer = await createExternalTrainer(model, { engine: params.engine, loss: lossConfig, classWeights, task, optimizer: params.optimizer, momentum: params.momentum, epsilon: params.epsilon, workers: params.workers, threads: wasmThreads(), log: (m) => ctx.log.info(m) });
  const parallel = params.workers > 1 ? await DataParallel.start(params.workers - 1, params.backend, spec, lossConfig, classWeights) : undefined;
  const result = await trainModel({
    model,
    loader: new ImageLoader(ctx.store, { size: params.size, channels: params.channels }, params.cache_mb * 2 ** 20),
    classes,
    trainRows: train,
    valRows: val,
    loss: makeLoss(lossConfig, task, classWeights),
    config: {
      ...optimizationConfig(params),
      labelSmoothing: params.label_smoothing,
      mixup: params.mixup,
      cutmix: params.cutmix,
      augment: params.augment,
      balancedSampler: params.balanced_sampler,
      monitor,
      earlyStopping: params.early_stopping ? { patience: params.early_stopping.patience, metric: stopMetric } : null,
      task,
      // ONNX Runtime gets this worker's share of the cores, like the wasm backend
      inference: { engine: params.inference, threads: wasmThreads() },
    },
    checkpoints,
    parallel,
    trainer,
    signal: ctx.signal,
    log: (m) => ctx.log.info(m),
    onEpoch: stuckWatch(ctx, epochReporter(ctx, params.epochs, 'val_auc')),
    onProgress: (done, total) => ctx.progress({ done, total }),
  }).finally(() => Promise.all([parallel?.stop(), trainer?.dispose()]));

  const metrics = bestEpochMetrics(result, 'val_auc');
  const files = await saveModelFiles(model);
  model.dispose();
  return {
    kind: 'model',
    files,
    meta: {
      classes,
      inputSize: params.size,
      channels: params.channels,
      arch: params.model,
      stem,
      ...(spec.normalize ? { normalize: spec.normalize } : {}),
      task,
      loss: lossConfig,
      ...(classWeights ? { class_weights: Object.fromEntries(classes.map((c, k) => [c, classWeights[k]])) } : {}),
      fold,
      dataset: data.artifact.digest,
      rows: { train: train.length, val: val.length },
      backend,
      // Timings go to the tracker (epoch_seconds), not into the artifact: the same training must give
      // byte-identical output so that what depends on it stays cached (early cutoff).
      history: result.history.map(({ seconds: _seconds, ...epoch }) => epoch),
      best_epoch: result.bestEpoch,
      stopped_early: result.stoppedEarly,
      metrics,
    },
  };
}


/** The optimisation params as the training loops take them. */
export function optimizationConfig(params: TrainParams): OptimizationConfig {
  const { epochs, batch, seed, optimizer, lr, momentum, epsilon, schedule } = params;
  return { epochs, batch, seed, optimizer, lr, momentum, epsilon, schedule };
}

/** Per epoch: metrics to the tracker (step = epoch) and one log line. */
export function epochReporter(ctx: StageContext, epochs: number, score: 'val_auc' | 'val_map'): (r: EpochRecord) => void {
  return (r) => {
    for (const name of ['train_loss', 'val_loss', score, 'lr', 'seconds'] as const) if (r[name] !== undefined) ctx.metric(name === 'seconds' ? 'epoch_seconds' : name, r[name]!, r.epoch);
    const value = r[score];
    ctx.log.info(`epoch ${r.epoch}/${epochs}: train_loss ${r.train_loss.toFixed(4)}${r.val_loss !== undefined ? ` val_loss ${r.val_loss.toFixed(4)}` : ''}${value !== undefined ? ` ${score} ${value.toFixed(4)}` : ''} (${r.seconds.toFixed(1)} s)`);
  };
}

/**
 * Warns (once) when an epoch's losses equal the previous epoch's while large: no step changed the outputs.
 * It used to mean outputs saturated at the loss's probability clipping (1e-7 / 1 - 1e-7, as Keras), where no
 * gradient flows (transformers from scratch at lr 1e-3); every loss now trains on the logits of the zoo's
 * final sigmoid / softmax (training/objective.ts), which has a gradient there, so that cause is gone.
 */
export function stuckWatch(ctx: StageContext, report: (r: EpochRecord) => void): (r: EpochRecord) => void {
  let previous: EpochRecord | undefined;
  let warned = false;
  const same = (a: number | undefined, b: number | undefined) => a === b || (a !== undefined && b !== undefined && Math.abs(a - b) <= 1e-6 * Math.abs(b));
  return (r) => {
    report(r);
    if (!warned && previous && r.train_loss > 0.1 && same(r.train_loss, previous.train_loss) && same(r.val_loss, previous.val_loss)) {
      warned = true;
      ctx.log.warn(`epoch ${r.epoch}: train_loss and val_loss unchanged since epoch ${previous.epoch} (${r.train_loss.toFixed(4)}): no step changed the outputs, so the training is stuck (not at the loss's probability clipping: every loss trains on the logits of the model's final sigmoid / softmax); lower lr (transformers from scratch: 1e-5 to 1e-4) or warm it up (schedule: { type: cosine, warmup_epochs: 2 })`);
    }
    previous = r;
  };
}

/** The best epoch's scores for trackers: best_epoch, epochs_run, the validation score, val_loss, train_loss. */
export function bestEpochMetrics(result: { history: EpochRecord[]; bestEpoch: number }, score: 'val_auc' | 'val_map'): Record<string, number> {
  const best = result.history.find((h) => h.epoch === result.bestEpoch);
  const metrics: Record<string, number> = { best_epoch: result.bestEpoch, epochs_run: result.history.length };
  for (const name of [score, 'val_loss', 'train_loss'] as const) if (best?.[name] !== undefined) metrics[name] = best[name]!;
  return metrics;
}

/** The zoo model the stage trains for its params. */
export function modelSpecOf(params: TrainParams, classes: number, task: Task): ModelSpec {
  const stem = resolveStem(params.stem, params.size, isOnnxPath(params.weights));
  const normalize = resolveNormalization(params.normalize, params.channels);
  return { arch: params.model, inputSize: params.size, channels: params.channels, classes, task, seed: params.seed, width: params.width, dropout: params.dropout, stem, patch: params.patch, ...(params.initializer ? { init: params.initializer } : {}), ...(normalize ? { normalize } : {}) };
}

/** The dataset input and the optional `init` model input (`from: { data: split, init: pretrain }`). */
export function pickInputs(inputs: readonly StageInput[]): { data: StageInput; init?: StageInput } {
  const datasets = inputs.filter((i) => i.artifact.kind === 'dataset');
  const models = inputs.filter((i) => i.artifact.kind === 'model');
  if (datasets.length !== 1) {
    throw new StageInputError(`train needs exactly one dataset input, got ${datasets.length} (${inputs.map((i) => `${i.name}: ${i.artifact.kind}`).join(', ')})`, 'write from: <stage producing image rows>, or from: { data: split, init: pretrain }');
  }
  if (models.length > 1 || (models.length === 1 && models[0].name !== 'init')) {
    throw new StageInputError(`train takes one model input, named init (got ${models.map((m) => m.name).join(', ')})`, 'write from: { data: <dataset stage>, init: <train stage> }');
  }
  return { data: datasets[0], init: models[0] };
}

/** A param the user set to something other than off (for the tasks that reject classification-only params). */
export function isSet(v: unknown): boolean {
  return v !== undefined && v !== false && v !== 0 && v !== null;
}

export function foldOf(ctx: StageContext, param: number | undefined): number | undefined {
  if (param !== undefined) return param;
  const v = ctx.instance.vars.fold;
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new StageInputError(`train: foreach var fold = ${JSON.stringify(v)} is not a fold number`, 'use foreach: { fold: "range(5)" }');
  return n;
}

export function requireImages(rows: readonly DatasetRow[], upstream: string): void {
  const missing = rows.find((r) => typeof r.image !== 'string');
  if (missing) throw new StageInputError(`train: row ${missing.id} from ${upstream} has no image`, 'run convert (DICOM) or ingest-images upstream so rows carry an image blob');
}

function classWeightsFor(option: TrainParams['class_balanced'], meta: Record<string, unknown>, classes: string[], counts: number[]): number[] | undefined {
  if (option === false) return undefined;
  const given = meta.class_weights as Record<string, number> | undefined;
  if (given && classes.every((c) => typeof given[c] === 'number')) return classes.map((c) => given[c]);
  return effectiveNumberWeights(counts, option === true ? 0.9999 : option.beta);
}

export async function startFrom(ctx: StageContext, model: tf.LayersModel, source: tf.LayersModel, what: string): Promise<void> {
  const { copied, skipped } = transferWeights(source, model);
  const [theirs, ours] = [inputNormalizationOf(source), inputNormalizationOf(model)].map((n) => (n ? `(x - [${n.mean.join(', ')}]) / [${n.std.join(', ')}]` : 'none'));
  if (theirs !== ours) ctx.log.warn(`${what} was trained with input normalisation ${theirs}, this model uses ${ours}: its weights see differently scaled input (set normalize: to match)`);
  source.dispose();
  if (copied === 0) throw new StageInputError(`train: no layer of ${what} matches the ${model.name} model by name and shape`, 'use weights saved from the same architecture (layer names like stem_conv, s1b1_1_conv)');
  ctx.log.info(`initialised ${copied} layers from ${what}${skipped.length ? `; kept fresh: ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', ...' : ''}` : ''}`);
}

/** `; images WxH, resized to SxS` when every training image has one stored size other than `size`. */
function resizeNote(rows: readonly DatasetRow[], size: number): string {
  const sizes = new Set(rows.map((r) => `${r.width}x${r.height}`));
  const [only] = sizes;
  return sizes.size === 1 && typeof rows[0].width === 'number' && only !== `${size}x${size}` ? `; images ${only}, resized to ${size}x${size}` : '';
}
