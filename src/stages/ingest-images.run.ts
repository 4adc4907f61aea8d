import { basename } from 'node:path';
import { loadSharp } from '../util/sharp.ts';
import type { DatasetRow } from '../data-model.ts';
import { StageInputError, type StageContext, type StageInput } from '../engine/stage.ts';
import { imageKeys } from '../ops/labels/load.ts';
import { labelsWhere, requireIngested, warnUnlabeled } from './ingest-checks.ts';
import { classList, collectSourceFiles, labelMeta, patientPseudonym, rowIds, type SourceFile } from './ingest-common.ts';
import { LabelJoiner } from './label-join.ts';
import type { ArtifactDraft } from '../engine/artifact.ts';
import type { IngestImagesParams } from './ingest-images.ts';
import { errorText } from '../util/error-text.ts';

interface ImageFacts {
  image: string;
  width: number;
  height: number;
  source_format: string;
  source_channels: number;
  bits: 8 | 16;
}

/** The implementation of the ingest-images stage, imported on its first run (src/stages/ingest-images.ts defines it). */
export async function run(ctx: StageContext, inputs: StageInput[], params: IngestImagesParams): Promise<ArtifactDraft> {
  if (params.source && /\.npz$/i.test(params.source)) return (await import('./ingest-npz.run.ts')).runNpz(ctx, params);
  let pattern: RegExp | undefined;
  try {
    pattern = params.patient_pattern ? new RegExp(params.patient_pattern) : undefined;
  } catch (err) {
    throw new StageInputError(`patient_pattern is not a valid regex: ${errorText(err)}`, 'e.g. "^(\\\\d{8})_"');
  }
  const files = await collectSourceFiles(ctx, inputs, params.source, params.glob, (rel) => /\.(png|jpe?g|tiff?)$/i.test(rel), 'image');
  const labels = await LabelJoiner.open(ctx, params, inputs[0]?.artifact);
  const outcomes = await ctx.eachItem<SourceFile, ImageFacts>(
    files,
    { key: (f) => ({ content: f.key }), id: (f) => f.rel, onError: params.on_error, params: params.colour === 'rgb' ? { colour: 'rgb' } : {} },
    (file) => storeImage(ctx, file, params.colour),
  );
  const ids = rowIds(files.map((f) => f.rel));
  const rows: DatasetRow[] = [];
  const unlabeled: string[] = [];
  let noPatient = 0;
  outcomes.forEach((o, i) => {
    if (!o.ok) return;
    const rel = files[i].rel;
    const joined = labels.join(rel, imageKeys(rel), { id: ids[i], width: o.value.width, height: o.value.height });
    if (labels.active && !joined?.labelled) unlabeled.push(ids[i]);
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
  requireIngested({ files: files.length, rows, failed, unlabeled: unlabeled.length, labels, labelsWhere: labelsWhere(params.labels), kind: 'image' });
  warnUnlabeled(ctx, unlabeled, labelsWhere(params.labels));
  if (noPatient) ctx.log.warn(`${noPatient} images have no patient id (no patient column or patient_pattern match): each counts as its own patient, so patient-grouped splits cannot prevent leakage for them`);
  ctx.log.info(`ingested ${rows.length} of ${files.length} images (${failed.length} failed${labels.active ? `, ${unlabeled.length} without labels` : ''})`);
  const { summary, ...meta } = labelMeta(ctx, labels, rows);
  return {
    kind: 'dataset',
    rows,
    meta: {
      classes: classList(rows, labels.declaredClasses),
      ...meta,
      pseudonymized: !params.keep_original_patient_ids,
      summary: { files: files.length, ingested: rows.length, failed: failed.length, unlabeled: unlabeled.length, without_patient: noPatient, ...summary },
      failed,
    },
  };
}

async function storeImage(ctx: StageContext, file: SourceFile, colour: 'grey' | 'rgb'): Promise<ImageFacts> {
  const sharp = await loadSharp();
  const input = file.path ?? (await ctx.store.getBlob(file.blob!));
  let meta;
  try {
    meta = await sharp(input).metadata();
  } catch (err) {
    throw new Error(`not a readable image: ${errorText(err)}`);
  }
  // TIFFs can hold 32-bit integers or floats (microscopy, exported CT): no faithful 8/16-bit PNG without a windowing choice.
  if (meta.depth && meta.depth !== 'uchar' && meta.depth !== 'ushort') throw new Error(`unsupported sample format ${meta.depth} (${meta.format}): 8- and 16-bit unsigned images only; convert it first (e.g. to a 16-bit PNG)`);
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
