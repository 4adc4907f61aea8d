import { basename } from 'node:path';
import { loadSharp } from '../util/sharp.ts';
import { z } from 'zod';
import type { DatasetRow } from '../data-model.ts';
import { defineStage, StageInputError, type StageContext } from '../engine/stage.ts';
import { imageKeys } from '../ops/labels/load.ts';
import { labelsWhere, requireIngested } from './ingest-checks.ts';
import { classList, saltEnvironmentKey, collectSourceFiles, commonIngestParams, externalSourcePaths, labelMeta, patientPseudonym, rowIds, type SourceFile } from './ingest-common.ts';
import { LabelJoiner } from './label-join.ts';

export const ingestImagesParams = z
  .object({
    source: z.string().optional().describe('Image folder, file or glob, relative to the experiment file; omit to take the files of a `from:` stage'),
    glob: z.string().default('**/*.{png,PNG,jpg,JPG,jpeg,JPEG}').describe('Which files under a source folder are images'),
    colour: z.enum(['grey', 'rgb']).default('grey').describe('grey: colour inputs become grey PNGs (luminance); rgb: colour inputs are kept as 8-bit RGB PNGs (microscopy, photographs; train with channels: 3), grey inputs stay grey'),
    patient_pattern: z
      .string()
      .optional()
      .describe('Regex with one capture group taking the patient id from the file name when the CSV has no patient column (NIH: "^(?:\\\\w+_)?(\\\\d{8})_")'),
    ...commonIngestParams,
  })
  .strict();


interface ImageFacts {
  image: string;
  width: number;
  height: number;
  source_format: string;
  source_channels: number;
  bits: 8 | 16;
}

/**
 * PNG/JPEG folder -> dataset. Grey PNGs are stored as they are; RGB(A) or JPEG inputs become grey PNGs
 * (8-bit, or 16-bit for 16-bit inputs) so every row's `image` is a grey PNG, unless `colour: rgb` keeps
 * colour inputs as 8-bit RGB PNGs.
 */
export const ingestImages = defineStage({
  name: 'ingest-images',
  version: 2,
  description: 'PNG/JPEG folder -> dataset of grey PNGs with labels (CSV or folder per class)',
  params: ingestImagesParams,
  perItem: true,
  inputs: { min: 0, max: 1 },
  externalPaths: (params) => externalSourcePaths(params),
  environmentKey: (params) => saltEnvironmentKey(params),
  async run(ctx, inputs, params) {
    let pattern: RegExp | undefined;
    try {
      pattern = params.patient_pattern ? new RegExp(params.patient_pattern) : undefined;
    } catch (err) {
      throw new StageInputError(`patient_pattern is not a valid regex: ${(err as Error).message}`, 'e.g. "^(\\\\d{8})_"');
    }
    const files = await collectSourceFiles(ctx, inputs, params.source, params.glob, (rel) => /\.(png|jpe?g)$/i.test(rel), 'image');
    const labels = await LabelJoiner.open(ctx, params, inputs[0]?.artifact);
    const outcomes = await ctx.eachItem<SourceFile, ImageFacts>(
      files,
      { key: (f) => ({ content: f.key }), id: (f) => f.rel, onError: params.on_error, params: params.colour === 'rgb' ? { colour: 'rgb' } : {} },
      (file) => storeImage(ctx, file, params.colour),
    );
    const ids = rowIds(files.map((f) => f.rel));
    const rows: DatasetRow[] = [];
    let unlabeled = 0;
    let noPatient = 0;
    outcomes.forEach((o, i) => {
      if (!o.ok) return;
      const rel = files[i].rel;
      const joined = labels.join(rel, imageKeys(rel), { id: ids[i], width: o.value.width, height: o.value.height });
      if (labels.active && !joined) unlabeled++;
      const rawPatient = joined?.patient ?? basename(rel).match(pattern ?? /$^/)?.[1];
      if (!rawPatient) noPatient++;
      const row: DatasetRow = {
        id: ids[i],
        patient: rawPatient ? patientPseudonym(rawPatient, params) : `image:${ids[i]}`,
        labels: joined?.labels ?? [],
        ...o.value,
        path: rel,
      };
      if (joined?.boxes.length) row.boxes = joined.boxes;
      if (joined?.split) row.split = joined.split;
      rows.push(row);
    });
    const failed = outcomes.flatMap((o) => (o.ok ? [] : [{ path: o.id, reason: o.error }]));
    requireIngested({ files: files.length, rows, failed, unlabeled, labels, labelsWhere: labelsWhere(params.labels), kind: 'image' });
    if (noPatient) ctx.log.warn(`${noPatient} images have no patient id (no patient column or patient_pattern match): each counts as its own patient, so patient-grouped splits cannot prevent leakage for them`);
    ctx.log.info(`ingested ${rows.length} of ${files.length} images (${failed.length} failed${labels.active ? `, ${unlabeled} without labels` : ''})`);
    const { summary, ...meta } = labelMeta(ctx, labels, rows);
    return {
      kind: 'dataset',
      rows,
      meta: {
        classes: classList(rows, labels.declaredClasses),
        ...meta,
        pseudonymized: !params.keep_original_patient_ids,
        summary: { files: files.length, ingested: rows.length, failed: failed.length, unlabeled, without_patient: noPatient, ...summary },
        failed,
      },
    };
  },
});

async function storeImage(ctx: StageContext, file: SourceFile, colour: 'grey' | 'rgb'): Promise<ImageFacts> {
  const sharp = await loadSharp();
  const input = file.path ?? (await ctx.store.getBlob(file.blob!));
  let meta;
  try {
    meta = await sharp(input).metadata();
  } catch (err) {
    throw new Error(`not a readable image: ${(err as Error).message}`);
  }
  const bits: 8 | 16 = meta.depth === 'ushort' ? 16 : 8;
  const channels = meta.channels ?? 1;
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  let image: string;
  if (meta.format === 'png' && channels === 1) {
    image = file.blob ?? (await ctx.store.putBlobFromFile(file.path!));
  } else if (colour === 'rgb' && channels >= 3) {
    // Colour kept: 8-bit sRGB PNG, alpha dropped (a grey image with alpha has channels 2 and becomes grey below).
    image = await ctx.store.putBlob(await sharp(input).removeAlpha().toColourspace('srgb').png().toBuffer());
  } else {
    // Luminance of colour inputs; alpha dropped. sharp keeps 16-bit with the grey16 colourspace.
    const grey = sharp(input).removeAlpha().toColourspace(bits === 16 ? 'grey16' : 'b-w');
    image = await ctx.store.putBlob(await grey.png().toBuffer());
  }
  return { image, width, height, source_format: meta.format ?? 'unknown', source_channels: channels, bits };
}
