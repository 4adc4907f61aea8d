import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defineStage } from '../engine/stage.ts';
import { LESION_KINDS, type LesionKind } from '../ops/dicom/phantom-lesions.ts';

export const syntheticDicomParams = z
  .object({
    patients: z.number().int().min(1).max(100_000).default(50).describe('Number of patients; each has 1-3 images'),
    seed: z.number().int().default(0).describe('PRNG seed: the same seed gives byte-identical files'),
    size: z.number().int().min(32).max(4096).default(256).describe('Image width and height in pixels'),
    out: z.string().optional().describe('Also write the files (DICOMs + labels.csv) into this folder, relative to the experiment file'),
    lesions: z
      .object({
        max: z.number().int().min(1).max(10).default(3).describe('Lesions per image: 0..max, uniformly (0 = No finding)'),
        classes: z.array(z.enum(Object.keys(LESION_KINDS) as [LesionKind, ...LesionKind[]])).min(1).default(['Nodule/Mass']).describe('Lesion classes: Nodule/Mass (discs of radius 3.5-7 % of the image), Calcification (1.2-2.5 %, brighter)'),
        readers: z.number().int().min(1).max(3).default(1).describe('Readers boxing each lesion (rows per lesion in labels.csv)'),
        jitter: z.number().min(0).max(0.3).default(0).describe("Readers' box jitter as a fraction of the box size (0 = the exact box)"),
      })
      .strict()
      .optional()
      .describe('Detection demo: draw bright disc lesions in the lungs with exact bounding boxes (the tightest box around every pixel they reach) instead of the classification findings'),
  })
  .strict();

/**
 * Synthetic chest X-ray DICOMs with drawn findings and a VinBigData labels CSV. Output: a `files`
 * artifact (`dicom/<image_id>.dcm`, `labels.csv`) that ingest-dicom takes as its input.
 */
export const syntheticDicom = defineStage({
  name: 'synthetic-dicom',
  version: 2,
  description: 'Deterministic synthetic chest X-ray DICOMs (Cardiomegaly, Nodule/Mass, Pleural effusion, No finding; or lesions with exact boxes for detection) with a VinBigData labels CSV',
  params: syntheticDicomParams,
  inputs: { min: 0, max: 0 },
  async run(ctx, _inputs, params) {
    const outDir = params.out ? ctx.resolvePath(params.out) : undefined;
    if (outDir) await mkdir(outDir, { recursive: true });
    const files: Record<string, { blob: string }> = {};
    const expected = params.patients * 2;
    // The DICOM writer (dcmjs) loads when the stage runs, not with the CLI.
    const [{ writeDemoSet }, { NO_FINDING, PHANTOM_FINDINGS }] = await Promise.all([import('../ops/dicom/demo-set.ts'), import('../ops/dicom/phantom.ts')]);
    const summary = await writeDemoSet(params, async (name, bytes) => {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('cancelled');
      files[`dicom/${name}`] = { blob: await ctx.store.putBlob(bytes) };
      if (outDir) await writeFile(join(outDir, name), bytes);
      const done = Object.keys(files).length;
      // `expected` is an estimate (patients vary in images): never report done before the last file.
      ctx.progress({ done, total: Math.max(expected, done + 1) });
    });
    if (outDir) await writeFile(join(outDir, 'labels.csv'), summary.labelsCsv);
    ctx.progress({ done: summary.images, total: summary.images });
    ctx.log.info(`wrote ${summary.images} images of ${summary.patients} patients: ${Object.entries(summary.counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    return {
      kind: 'files',
      files: { ...files, 'labels.csv': summary.labelsCsv },
      meta: {
        format: 'vinbig',
        classes: [...(params.lesions ? [...new Set(params.lesions.classes)].sort() : Object.keys(PHANTOM_FINDINGS)), NO_FINDING],
        images: summary.images,
        patients: summary.patients,
        counts: summary.counts,
      },
    };
  },
});
