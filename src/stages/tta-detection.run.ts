import type { ArtifactDraft } from '../engine/artifact.ts';
import type { Box, DatasetRow } from '../data-model.ts';
import { StageInputError, type StageContext, type StageInput } from '../engine/stage.ts';
import type { PredictionRow } from '../evaluation/predictions.ts';
import { wasmThreads } from '../ml/backend.ts';
import { anchorPoints } from '../ml/detection/assign.ts';
import { invertTtaBoxes, transformRaster } from '../ml/detection/box-tta.ts';
import { decodeDetections } from '../ml/detection/decode.ts';
import { CLASS_OFFSET, pyramidLevels } from '../ml/detection/detector.ts';
import { decodeLetterboxed } from '../ml/detection/letterbox-image.ts';
import { createPredictor, type Predictor } from '../ml/inference/predictor.ts';
import { MicroBatcher } from '../ml/micro-batcher.ts';
import { loadModel } from '../ml/model-io.ts';
import type * as tf from '../ml/tf.ts';
import { transformName } from '../ml/tta-transforms.ts';
import { fromLetterbox } from '../ops/boxes/letterbox.ts';
import { boxesToOriginal } from '../ops/boxes/transform.ts';
import { weightedBoxesFusion } from '../ops/boxes/wbf.ts';
import { DecodeParams, decodeOptions } from './train-detection-params.ts';
import type { TtaParams } from './tta.ts';
import { byImage, predictionRowBase } from './tta.run.ts';

/**
 * `tta` for detectors: each image letterboxed as in training, predicted under every transform, decoded
 * (score threshold, class-wise NMS or soft-NMS, max_det), mapped back through the transform's exact inverse,
 * the letterbox and the row's geometry (convert / preprocess steps) into the ORIGINAL image's pixels, the
 * frame of `truth_boxes` too; several transforms are fused per image with WBF.
 */
export async function predictDetections(ctx: StageContext, models: readonly StageInput[], rowsOf: (model: StageInput) => DatasetRow[], p: TtaParams): Promise<ArtifactDraft> {
  const classes = models[0].artifact.meta.classes as string[];
  const out: PredictionRow[] = [];
  for (const model of models) out.push(...(await predictOne(ctx, model, rowsOf(model), classes, p)));
  if (out.length === 0) throw new StageInputError(`tta: no rows to predict with on: ${p.on}`, p.on === 'test' ? 'the dataset has no split: test rows; use on: val for out-of-fold predictions' : 'check the folds of the dataset against the models');
  const histories = Object.fromEntries(models.flatMap((m) => (m.artifact.meta.history ? [[m.instance, m.artifact.meta.history]] : [])));
  return {
    kind: 'predictions',
    rows: p.average ? fuseModels(out, p) : out,
    meta: { classes, task: 'detection', coordinates: 'original image pixels', transforms: p.transforms.map(transformName), models: models.map((m) => m.instance), ...(Object.keys(histories).length ? { histories } : {}) },
  };
}

async function predictOne(ctx: StageContext, input: StageInput, rows: readonly DatasetRow[], classes: string[], p: TtaParams): Promise<PredictionRow[]> {
  const missing = rows.find((r) => typeof r.image !== 'string');
  if (missing) throw new StageInputError(`tta: row ${missing.id} has no image`, 'predict on the dataset the models were trained on (rows with an image blob)');
  const size = Number(input.artifact.meta.inputSize);
  const height = Number(input.artifact.meta.inputHeight ?? size);
  const channels = Number(input.artifact.meta.channels) as 1 | 3;
  const decode = decodeOptions(DecodeParams.parse({ ...(input.artifact.meta.decode as object | undefined), ...p.decode }));
  const points = anchorPoints(pyramidLevels(size, height), Number((input.artifact.meta.detector as { level_range?: number } | undefined)?.level_range ?? 4));
  const per = points.count * (CLASS_OFFSET + classes.length);
  let model: tf.LayersModel | undefined;
  let predictor: Predictor | undefined;
  const batcher = new MicroBatcher<Float32Array, Float32Array>(p.batch, async (images) => {
    model ??= await loadModel(ctx.store, input.artifact);
    predictor ??= await createPredictor(model, { engine: p.inference, threads: wasmThreads(), log: (m) => ctx.log.info(`${input.instance}: ${m}`) });
    const pixels = size * height * channels;
    const all = new Float32Array(images.length * pixels);
    images.forEach((px, i) => all.set(px, i * pixels));
    const raw = await predictor.predict(all, images.length);
    return images.map((_, i) => raw.slice(i * per, (i + 1) * per));
  });
  ctx.log.info(`${input.instance}: predicting boxes on ${rows.length} images × ${p.transforms.length} transforms`);
  const outcomes = await ctx
    .eachItem(
      rows,
      { key: (r) => ({ model: input.artifact.digest, image: r.image }), params: { transforms: p.transforms, decode, merge: p.box_merge }, id: (r) => r.id, concurrency: p.batch },
      async (r) => {
        const { raster, geometry } = await decodeLetterboxed(await ctx.store.getBlob(r.image!), size, channels, height);
        const perTransform = await Promise.all(
          p.transforms.map(async (t) => invertTtaBoxes(decodeDetections(await batcher.submit(transformRaster(raster, t).data), points, classes, decode), t, size, height)),
        );
        const merged = perTransform.length === 1 ? perTransform[0] : fuse(perTransform, p, decode.maxDet);
        return boxesToOriginal(merged.map((b) => fromLetterbox(b, geometry)), r.geometry).map(roundBox);
      },
    )
    .finally(async () => {
      await predictor?.dispose();
      model?.dispose();
    });
  const failed = outcomes.find((o) => !o.ok);
  if (failed && !failed.ok) throw new Error(`tta: image ${failed.id}: ${failed.error}`);
  return rows.map((r, i) => {
    const o = outcomes[i];
    const size = r.geometry ? { width: r.geometry.width, height: r.geometry.height } : r.width !== undefined ? { width: r.width, height: r.height } : {};
    return { ...predictionRowBase(r, input), ...size, boxes: o.ok ? o.value : [], truth_boxes: boxesToOriginal(r.boxes ?? [], r.geometry) };
  });
}

/** Boxes of several predictions of one image (transforms or models) fused: WBF (default) or class-wise NMS of the union. */
function fuse(lists: readonly Box[][], p: TtaParams, maxDet: number): Box[] {
  const scored = lists.map((l) => l.map((b) => ({ ...b, score: b.score ?? 1 })));
  const fused = weightedBoxesFusion(scored, { iouThr: p.box_merge.iou_thr, skipBoxThr: 0, confType: 'avg' });
  return fused.slice(0, maxDet);
}

function fuseModels(rows: readonly PredictionRow[], p: TtaParams): PredictionRow[] {
  return byImage(rows).map((group) => {
    const { model: _m, model_fold: _f, ...rest } = group[0];
    return { ...rest, boxes: group.length === 1 ? group[0].boxes : fuse(group.map((g) => g.boxes ?? []), p, Infinity), models: group.length };
  });
}

/** Coordinates to 1/1000 pixel and scores to 1e-6: the artifact stays small and its bytes stable across float noise. */
function roundBox(b: Box): Box {
  const r = (v: number, k: number) => Math.round(v * k) / k;
  return { ...b, x_min: r(b.x_min, 1000), y_min: r(b.y_min, 1000), x_max: r(b.x_max, 1000), y_max: r(b.y_max, 1000), ...(b.score !== undefined ? { score: r(b.score, 1e6) } : {}) };
}
