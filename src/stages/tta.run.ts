import type { ArtifactDraft } from '../engine/artifact.ts';
import type { DatasetRow } from '../data-model.ts';
import { StageInputError, type StageContext, type StageInput } from '../engine/stage.ts';
import type { TtaParams } from './tta.ts';
import { anomalyTruth, normalLabelOf } from '../evaluation/anomaly-labels.ts';
import type { PredictionRow } from '../evaluation/predictions.ts';
import { initBackend, wasmThreads } from '../ml/backend.ts';
import { createPredictor, type Predictor } from '../ml/inference/predictor.ts';
import { decodeImagePixels } from '../ml/image-tensor.ts';
import { MicroBatcher } from '../ml/micro-batcher.ts';
import { loadModel } from '../ml/model-io.ts';
import * as tf from '../ml/tf.ts';
import { predictWithTta, transformName } from '../ml/tta-transforms.ts';
import { weightedMean } from '../ops/ensemble/combine.ts';
import { testRows, validationRows } from '../ops/splits/fold-parts.ts';

/** The implementation of the stage, imported on first run (it loads TensorFlow.js). */
export async function run(ctx: StageContext, inputs: StageInput[], p: TtaParams): Promise<ArtifactDraft> {
  const models = inputs.filter((i) => i.artifact.kind === 'model');
  const datasets = inputs.filter((i) => i.artifact.kind === 'dataset');
  if (models.length === 0 || datasets.length !== 1) {
    throw new StageInputError(`tta needs model inputs and exactly one dataset, got ${inputs.map((i) => `${i.name}: ${i.artifact.kind}`).join(', ')}`, 'write from: { models: train, data: split }');
  }
  const classes = sharedMeta(models);
  await initBackend(p.backend, (m) => ctx.log.info(m));
  const rows = await ctx.readRows<DatasetRow>(datasets[0].artifact);
  if (models[0].artifact.meta.task === 'detection') return (await import('./tta-detection.run.ts')).predictDetections(ctx, models, (m) => rowsFor(rows, m, p.on), p);
  const out: PredictionRow[] = [];
  for (const model of models) out.push(...(await predictOne(ctx, model, rowsFor(rows, model, p.on), p)));
  if (out.length === 0) throw new StageInputError(`tta: no rows to predict with on: ${p.on}`, p.on === 'test' ? 'the dataset has no split: test rows; use on: val for out-of-fold predictions' : 'check the folds of the dataset against the models');
  const histories = Object.fromEntries(models.flatMap((m) => (m.artifact.meta.history ? [[m.instance, m.artifact.meta.history]] : [])));
  return {
    kind: 'predictions',
    rows: p.average ? averageOverModels(out) : out,
    meta: { classes, task: models[0].artifact.meta.task, transforms: p.transforms.map(transformName), models: models.map((m) => m.instance), ...(normalLabelOf(models[0].artifact.meta) !== undefined ? { scores: 'anomaly' } : {}), ...(Object.keys(histories).length ? { histories } : {}) },
  };
}


function sharedMeta(models: readonly StageInput[]): string[] {
  const key = (m: StageInput) => JSON.stringify([m.artifact.meta.classes, m.artifact.meta.task]);
  const odd = models.find((m) => key(m) !== key(models[0]));
  if (odd) throw new StageInputError(`models ${models[0].instance} and ${odd.instance} predict different classes or tasks`, 'tta combines models trained for the same classes');
  const classes = models[0].artifact.meta.classes;
  if (!Array.isArray(classes)) throw new StageInputError(`model ${models[0].instance} has no meta.classes`);
  return classes as string[];
}

function foldOf(model: StageInput): number | undefined {
  const f = model.artifact.meta.fold ?? model.vars.fold;
  return f === undefined || f === null ? undefined : Number(f);
}

function rowsFor(rows: readonly DatasetRow[], model: StageInput, on: 'test' | 'val' | 'all'): DatasetRow[] {
  const val = on === 'test' ? [] : validationRows(rows, foldOf(model));
  return [...val, ...(on === 'val' ? [] : testRows(rows))];
}

async function predictOne(ctx: StageContext, input: StageInput, rows: readonly DatasetRow[], p: TtaParams): Promise<PredictionRow[]> {
  const missing = rows.find((r) => typeof r.image !== 'string');
  if (missing) throw new StageInputError(`tta: row ${missing.id} has no image`, 'predict on the dataset the models were trained on (rows with an image blob)');
  const size = Number(input.artifact.meta.inputSize);
  const channels = Number(input.artifact.meta.channels) as 1 | 3;
  let model: tf.LayersModel | undefined;
  let predictor: Predictor | undefined;
  const batcher = new MicroBatcher<Float32Array, number[]>(p.batch, async (images) => {
    model ??= await loadModel(ctx.store, input.artifact);
    // ONNX Runtime gets the threads the wasm backend would use (PIPELINE_WASM_THREADS, else every core)
    predictor ??= await createPredictor(model, { engine: p.inference, threads: wasmThreads(), log: (m) => ctx.log.info(`${input.instance}: ${m}`) });
    const per = size * size * channels;
    const all = new Float32Array(images.length * per);
    images.forEach((px, i) => all.set(px, i * per));
    const x = tf.tensor4d(all, [images.length, size, size, channels]);
    try {
      return await predictWithTta(predictor, x, p.transforms);
    } finally {
      x.dispose();
    }
  });
  ctx.log.info(`${input.instance}: predicting ${rows.length} images × ${p.transforms.length} transforms`);
  // The item key leaves out the inference engine (like the tfjs backend): an execution detail that
  // changes the scores by float rounding only, so an image predicted by either engine is reused.
  const outcomes = await ctx
    .eachItem(
      rows,
      { key: (r) => ({ model: input.artifact.digest, image: r.image }), params: { transforms: p.transforms }, id: (r) => r.id, concurrency: p.batch },
      async (r) => batcher.submit(await decodeImagePixels(await ctx.store.getBlob(r.image!), { size, channels })),
    )
    .finally(async () => {
      await predictor?.dispose();
      model?.dispose();
    });
  const failed = outcomes.find((o) => !o.ok);
  if (failed && !failed.ok) throw new Error(`tta: image ${failed.id}: ${failed.error}`);
  return rows.map((r, i) => {
    const o = outcomes[i];
    return { ...predictionRowBase(r, input), scores: o.ok ? o.value : [] };
  });
}

/** The columns every prediction row copies from its dataset row, and the predicting model. */
export function predictionRowBase(r: DatasetRow, input: StageInput): PredictionRow {
  const fold = foldOf(input);
  return {
    id: r.id,
    ...(r.patient !== undefined ? { patient: r.patient } : {}),
    ...(r.study !== undefined ? { study: r.study } : {}),
    ...(r.split !== undefined ? { split: r.split } : {}),
    ...(r.fold !== undefined ? { fold: r.fold } : {}),
    labels: truthLabels(r, input),
    model: input.instance,
    ...(fold !== undefined ? { model_fold: fold } : {}),
  };
}

/** The row's labels; for an anomaly detector [abnormal] / [its normal label] / none, the truth of its one class. */
function truthLabels(r: DatasetRow, input: StageInput): string[] {
  const normal = normalLabelOf(input.artifact.meta);
  return normal === undefined ? (r.labels ?? []) : anomalyTruth(r.labels, normal);
}

/** Prediction rows grouped by image id (one group per image, in first-seen order). */
export function byImage(rows: readonly PredictionRow[]): PredictionRow[][] {
  const byId = new Map<string, PredictionRow[]>();
  for (const r of rows) (byId.get(r.id) ?? byId.set(r.id, []).get(r.id)!).push(r);
  return [...byId.values()];
}

/** One row per image: scores averaged over the models that predicted it. */
function averageOverModels(rows: readonly PredictionRow[]): PredictionRow[] {
  return byImage(rows).map((group) => {
    const { model: _m, model_fold: _f, ...rest } = group[0];
    return { ...rest, scores: weightedMean(group.map((g) => g.scores!)), models: group.length };
  });
}
