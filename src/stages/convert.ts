import { availableParallelism } from 'node:os';
import { z } from 'zod';
import type { Box, DatasetRow, GeometryStep, ImageGeometry } from '../data-model.ts';
import { defineStage, StageInputError } from '../engine/stage.ts';
import type { ConvertPool } from '../ops/dicom/convert-pool.ts';
import type { ConvertOptions } from '../ops/dicom/convert.ts';
import type { WindowChoice } from '../ops/dicom/render.ts';

const percentileWindow = z
  .object({
    low: z.number().min(0).max(100).default(0.5).describe('Lower percentile (0-100) mapped to black'),
    high: z.number().min(0).max(100).default(99.5).describe('Upper percentile (0-100) mapped to white'),
  })
  .strict()
  .refine((p) => p.low < p.high, { message: 'percentile low must be below high' });

const windowParam = z
  .union([
    z.enum(['auto', 'file', 'minmax', 'percentile']),
    z.object({ percentile: percentileWindow.describe('Percentiles of the modality values (numpy linear interpolation)') }).strict(),
    z
      .object({
        center: z.number().describe('Window center, in modality units (after rescale / Modality LUT)'),
        width: z.number().positive().describe('Window width, in modality units'),
        function: z.enum(['LINEAR', 'LINEAR_EXACT', 'SIGMOID']).default('LINEAR').describe('VOI LUT Function (PS3.3 C.11.2.1.2)'),
      })
      .strict(),
  ])
  .default('auto')
  .describe(
    'auto: the file\'s VOI LUT Sequence or first window, else min-max; file: the file\'s (error if none); minmax; percentile (0.5-99.5, or {percentile: {low, high}}); or a fixed {center, width, function}',
  );

export const convertParams = z
  .object({
    window: windowParam,
    bits: z.union([z.literal(8), z.literal(16)]).default(8).describe('Bits per PNG sample: 8 or 16 (grey)'),
    size: z.number().int().positive().optional().describe('Longest side of the output in pixels (aspect kept, boxes scaled); omit to keep the original size'),
    frames: z.enum(['first', 'all']).default('first').describe('Multi-frame files: convert the first frame only, or one row per frame'),
    on_error: z.enum(['skip', 'fail']).default('skip').describe('skip: drop and report files that cannot be converted; fail: stop the stage'),
  })
  .strict();

export type ConvertParams = z.output<typeof convertParams>;

/** What one converted DICOM yields (cached per DICOM digest and rendering params). */
interface ItemResult {
  images: Array<{ image: string; width: number; height: number }>;
  sourceWidth: number;
  sourceHeight: number;
  framesInFile: number;
  voi: string;
}

export function windowChoice(window: ConvertParams['window']): WindowChoice {
  if (window === 'percentile') return { percentile: { low: 0.5, high: 99.5 } };
  return window;
}

/** Boxes from a `from` pixel grid to a `to` grid (multiply before dividing, so 44 * 64 / 440 is exactly 6.4). */
export function scaleBoxes(boxes: Box[] | undefined, from: { width: number; height: number }, to: { width: number; height: number }): Box[] | undefined {
  if (!boxes) return undefined;
  if (from.width === to.width && from.height === to.height) return boxes;
  const x = (v: number) => (v * to.width) / from.width;
  const y = (v: number) => (v * to.height) / from.height;
  return boxes.map((b) => ({ ...b, x_min: x(b.x_min), y_min: y(b.y_min), x_max: x(b.x_max), y_max: y(b.y_max) }));
}

export const convertStage = defineStage({
  name: 'convert',
  version: 2,
  description: 'DICOM pixel data -> 8/16-bit grey PNG: all common transfer syntaxes, Modality LUT/rescale, VOI LUT/window, MONOCHROME1 inversion, optional resize',
  params: convertParams,
  perItem: true,
  inputs: { min: 1, max: 1 },
  async run(ctx, inputs, params) {
    const input = inputs[0].artifact;
    if (input.kind !== 'dataset') throw new StageInputError(`convert needs a dataset input, got ${input.kind} from "${inputs[0].stage}"`);
    const rows = await ctx.readRows<DatasetRow>(input);
    if (rows.length > 0 && !rows.some((r) => typeof r.dicom === 'string')) {
      throw new StageInputError(`input "${inputs[0].stage}" has no "dicom" column`, 'convert reads DICOM blobs written by ingest-dicom; for PNG/JPEG folders use ingest-images instead');
    }
    const options: ConvertOptions = { window: windowChoice(params.window), bits: params.bits, size: params.size, frames: params.frames };
    let pool: ConvertPool | undefined;
    // The DICOM decoders load when the stage runs, not with the CLI.
    const { ConvertPool: Pool } = await import('../ops/dicom/convert-pool.ts');
    const poolSize = Math.max(1, Math.min(ctx.concurrency, availableParallelism()));
    const workers = workerCount(rows.length, poolSize);
    try {
      const outcomes = await ctx.eachItem(
        rows,
        {
          key: (row) => ({ dicom: row.dicom }),
          params: options,
          id: (row) => row.id,
          onError: params.on_error,
          concurrency: poolSize,
        },
        async (row): Promise<ItemResult> => {
          if (typeof row.dicom !== 'string') throw new Error('row has no dicom blob');
          const bytes = await ctx.store.getBlob(row.dicom);
          pool ??= new Pool(workers);
          const result = await pool.convert(bytes, options);
          const images = [];
          for (const image of result.images) images.push({ image: await ctx.store.putBlob(image.png), width: image.width, height: image.height });
          return { images, sourceWidth: result.sourceWidth, sourceHeight: result.sourceHeight, framesInFile: result.framesInFile, voi: result.voi };
        },
      );
      const out: DatasetRow[] = [];
      const failures: Array<{ id: string; reason: string }> = [];
      let cached = 0;
      outcomes.forEach((outcome, i) => {
        if (!outcome.ok) {
          failures.push({ id: outcome.id, reason: outcome.error });
          return;
        }
        if (outcome.cached) cached++;
        out.push(...outputRows(rows[i], outcome.value));
      });
      ctx.log.info(`converted ${outcomes.length - failures.length - cached}, cached ${cached}, failed ${failures.length} of ${rows.length}`);
      ctx.metric('convert.failed', failures.length);
      return {
        kind: 'dataset',
        rows: out,
        meta: { ...input.meta, convert: { total: rows.length, converted: outcomes.length - failures.length, failed: failures.length, failures } },
      };
    } finally {
      await pool?.close();
    }
  },
});

/**
 * Worker threads pay ~1 s each to start (tsx + wasm codecs), so small batches convert in-process.
 * `PIPELINE_CONVERT_WORKERS` overrides the count (0 = in-process).
 */
export const MIN_ROWS_FOR_WORKERS = 16;

function workerCount(rows: number, poolSize: number): number {
  const forced = process.env.PIPELINE_CONVERT_WORKERS;
  if (forced !== undefined && forced !== '') {
    const n = Number(forced);
    if (!Number.isInteger(n) || n < 0) throw new StageInputError(`PIPELINE_CONVERT_WORKERS must be a whole number >= 0, got "${forced}"`);
    return n;
  }
  return rows >= MIN_ROWS_FOR_WORKERS ? poolSize : 0;
}

/** The DICOM's pixel grid is the original frame; a resize is one scale step (the factors scaleBoxes applies). */
export function convertGeometry(source: { sourceWidth: number; sourceHeight: number }, image: { width: number; height: number }): ImageGeometry {
  const resized = image.width !== source.sourceWidth || image.height !== source.sourceHeight;
  const steps: GeometryStep[] = resized ? [{ op: 'scale', sx: image.width / source.sourceWidth, sy: image.height / source.sourceHeight, dx: 0, dy: 0, width: image.width, height: image.height }] : [];
  return { width: source.sourceWidth, height: source.sourceHeight, steps };
}

function outputRows(row: DatasetRow, result: ItemResult): DatasetRow[] {
  const multi = result.images.length > 1;
  return result.images.map((image, frame) => {
    const boxes = scaleBoxes(row.boxes, { width: result.sourceWidth, height: result.sourceHeight }, image);
    return {
      ...row,
      ...(multi ? { id: `${row.id}#${frame}`, frame, source_id: row.id } : {}),
      image: image.image,
      width: image.width,
      height: image.height,
      source_width: result.sourceWidth,
      source_height: result.sourceHeight,
      geometry: convertGeometry(result, image),
      ...(boxes ? { boxes } : {}),
    };
  });
}
