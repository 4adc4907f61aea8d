import { availableParallelism } from 'node:os';
import type { DatasetRow } from '../data-model.ts';
import { StageInputError, type StageContext, type StageInput } from '../engine/stage.ts';
import { appendGeometry, transformBoxes, type GeometryStep } from '../ops/boxes/transform.ts';
import type { OpSpec } from '../ops/image/apply.ts';
import { processPng, type ProcessedPng } from '../ops/image/process-png.ts';
import type { ProcessPngRequest } from '../ops/image/process-png-worker.ts';
import { WorkerPool } from '../util/worker-pool.ts';
import { singleDataset } from './dataset-input.ts';
import { AutoMaskParams, PreprocessParams, type OpParams } from './preprocess-params.ts';
import type { ArtifactDraft } from '../engine/artifact.ts';

/** Datasets smaller than this are processed in-process: worker start-up would cost more than it saves. */
export const WORKER_MIN_ROWS = 64;

interface ItemResult {
  image: string;
  width: number;
  height: number;
  steps: GeometryStep[];
  masked: number;
  /** Size of the input image (the original's when the row has no geometry yet). */
  inputWidth: number;
  inputHeight: number;
}

/** Schema output -> op specs with every default resolved (resize height, auto-mask options). */
export function resolveOps(ops: readonly OpParams[]): OpSpec[] {
  return ops.map((op) => {
    if (op.resize) return { resize: { ...op.resize, height: op.resize.height ?? op.resize.width } };
    if (op.mask) {
      const a = op.mask.auto === true ? AutoMaskParams.parse({}) : op.mask.auto || undefined;
      const auto = a && { threshold: a.threshold, maxArea: a.max_area, border: a.border, dilate: a.dilate };
      return { mask: { regions: op.mask.regions, auto, margin: op.mask.margin } };
    }
    return op as OpSpec;
  });
}

/** The implementation of the preprocess stage, imported on its first run (src/stages/preprocess.ts defines it). */
export async function run(ctx: StageContext, inputs: StageInput[], params: PreprocessParams): Promise<ArtifactDraft> {
  const source = singleDataset(inputs, 'preprocess');
  const rows = await ctx.readRows<DatasetRow>(source);
  const missing = rows.find((r) => typeof r.image !== 'string');
  if (missing) throw new StageInputError(`row ${missing.id} has no image`, 'preprocess needs rows with an `image` PNG digest: put it after convert or ingest-images');
  const ops = resolveOps(params.ops);
  // The ops are CPU-bound JS: on larger datasets with concurrency > 1 they run on worker threads
  // (created on the first image not already cached; starting them costs ~1-2 s), else in-process.
  const poolSize = rows.length >= WORKER_MIN_ROWS ? Math.min(ctx.concurrency, availableParallelism()) : 1;
  let pool: WorkerPool<ProcessPngRequest, ProcessedPng> | undefined;
  const processImage = (bytes: Uint8Array) => {
    if (poolSize <= 1) return processPng(bytes, ops, params.png_compression);
    pool ??= new WorkerPool(new URL('../ops/image/process-png-worker-entry.mjs', import.meta.url), poolSize, 'preprocess worker');
    const copy = new Uint8Array(bytes);
    return pool.run({ bytes: copy, ops, compression: params.png_compression }, [copy.buffer]);
  };
  let outcomes;
  try {
    outcomes = await ctx.eachItem(
      rows,
      { key: (r) => ({ image: r.image }), id: (r) => r.id, params: { ops, png: params.png_compression } },
      async (row): Promise<ItemResult> => {
        const result = await processImage(await ctx.store.getBlob(row.image!));
        const image = await ctx.store.putBlob(result.png);
        return { image, width: result.width, height: result.height, steps: result.steps, masked: result.masked, inputWidth: result.inputWidth, inputHeight: result.inputHeight };
      },
    );
  } finally {
    await pool?.close();
  }
  let masked = 0, boxesDropped = 0;
  const out = rows.map((row, i) => {
    const o = outcomes[i];
    if (!o.ok) throw new Error(`item ${o.id}: ${o.error}`);
    masked += o.value.masked;
    const next: DatasetRow = { ...row, image: o.value.image, width: o.value.width, height: o.value.height };
    if (row.geometry || o.value.steps.length) next.geometry = appendGeometry(row.geometry, { width: o.value.inputWidth, height: o.value.inputHeight }, o.value.steps);
    if (row.boxes) {
      next.boxes = transformBoxes(row.boxes, o.value.steps);
      boxesDropped += row.boxes.length - next.boxes.length;
    }
    return next;
  });
  const where = pool ? `on ${poolSize} worker threads` : 'in-process';
  ctx.log.info(`preprocessed ${rows.length} images (${outcomes.filter((o) => o.ok && o.cached).length} cached, ${where}); ${masked} regions masked; ${boxesDropped} boxes cropped away`);
  return { kind: 'dataset', rows: out, meta: { ...source.meta, preprocess: { masked, boxesDropped } } };
}
