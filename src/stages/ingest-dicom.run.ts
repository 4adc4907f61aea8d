import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatasetRow } from '../data-model.ts';
import type { StageContext, StageInput } from '../engine/stage.ts';
import type { DicomFileHeader } from '../ops/dicom/header.ts';
import { imageKeys } from '../ops/labels/load.ts';
import { pseudonymizeUid, saltFingerprint, uidPseudonymIndex } from '../ops/dicom/pseudonym.ts';
import { labelsWhere, requireIngested, warnUnlabeled } from './ingest-checks.ts';
import { classList, collectSourceFiles, saltOf, labelMeta, patientPseudonym, rowIds, type SourceFile } from './ingest-common.ts';
import { LabelJoiner } from './label-join.ts';
import type { ArtifactDraft } from '../engine/artifact.ts';
import type { IngestDicomParams } from './ingest-dicom.ts';

/**
 * What one file contributes, cached per file content. Holds no direct identifier: the patient and the
 * Study/Series/SOP Instance UIDs are already pseudonyms (originals only with keep_original_patient_ids),
 * since item-cache documents travel with `pipeline push` and live on a shared store.
 */
interface ParsedFile {
  dicom: string;
  patient?: string;
  header: Omit<DicomFileHeader, 'patientId' | 'patientName'>;
}

// DICOMDIR: the index of a DICOM CD or folder (PS3.10), a DICOM file without an image.
const IGNORED = /(^|\/)(\.[^/]*|DICOMDIR|[^/]*\.(csv|tsv|txt|json|md|html?|xml|ya?ml|log|pdf|zip|png|jpe?g))$/i;

const SHOWN_DUPLICATES = 10;

/** The implementation of the ingest-dicom stage, imported on its first run (src/stages/ingest-dicom.ts defines it). */
export async function run(ctx: StageContext, inputs: StageInput[], params: IngestDicomParams): Promise<ArtifactDraft> {
  const files = await collectSourceFiles(ctx, inputs, params.source, params.glob, (rel) => !IGNORED.test(rel), 'DICOM');
  const labels = await LabelJoiner.open(ctx, params, inputs[0]?.artifact);
  const salt = params.keep_original_patient_ids ? undefined : saltOf(params.pseudonymize);
  // Keyed on a keyed hash of the effective salt (which may come from the environment), never the salt itself.
  const itemParams = { pseudonymize: salt === undefined ? 'none' : saltFingerprint(salt) };
  const outcomes = await ctx.eachItem<SourceFile, ParsedFile>(
    files,
    { key: (f) => ({ content: f.key }), id: (f) => f.rel, onError: params.on_error, params: itemParams },
    (file) => parseFile(ctx, file, params, salt),
  );

  // Labels and split lists keyed by an original SOPInstanceUID, by its pseudonym (what the cache holds).
  const labelKeyOf = salt === undefined ? undefined : uidPseudonymIndex(labels.keys(), salt);
  const failed = outcomes.flatMap((o) => (o.ok ? [] : [{ path: o.id, reason: o.error }]));
  const ids = rowIds(files.map((f) => f.rel));
  const seen = new Map<string, string>();
  const rows: DatasetRow[] = [];
  const duplicates: Array<{ path: string; kept: string }> = [];
  const unlabeled: string[] = [];
  outcomes.forEach((o, i) => {
    if (!o.ok) return;
    const { header: h, dicom, patient } = o.value;
    const rel = files[i].rel;
    if (h.sopInstanceUid && params.dedupe) {
      const kept = seen.get(h.sopInstanceUid);
      if (kept !== undefined) return void duplicates.push({ path: rel, kept });
      seen.set(h.sopInstanceUid, rel);
    }
    const sopKey = labelKeyOf && h.sopInstanceUid ? labelKeyOf.get(h.sopInstanceUid) : h.sopInstanceUid;
    const joined = labels.join(rel, imageKeys(rel, sopKey), { id: ids[i], width: h.columns, height: h.rows });
    if (labels.active && !joined?.labelled) unlabeled.push(ids[i]);
    rows.push(clean({
      id: ids[i],
      // A patient column in the labels wins over the DICOM PatientID.
      patient: joined?.patient ? patientPseudonym(joined.patient, params) : (patient ?? (h.studyUid ? `study:${h.studyUid}` : undefined)),
      study: h.studyUid,
      series: h.seriesUid,
      sop: h.sopInstanceUid,
      labels: joined?.labels ?? [],
      boxes: joined?.boxes.length ? joined.boxes : undefined,
      split: joined?.split,
      dicom,
      width: h.columns,
      height: h.rows,
      path: rel,
      modality: h.modality,
      view: h.viewPosition,
      photometric: h.photometric,
      bits_allocated: h.bitsAllocated,
      bits_stored: h.bitsStored,
      pixel_representation: h.pixelRepresentation,
      frames: h.frames,
      spacing: h.pixelSpacing,
      window_center: h.windowCenter,
      window_width: h.windowWidth,
      rescale_slope: h.rescaleSlope,
      rescale_intercept: h.rescaleIntercept,
      transfer_syntax: h.transferSyntax,
    }));
  });
  requireIngested({ files: files.length, rows, failed, unlabeled: unlabeled.length, labels, labelsWhere: labelsWhere(params.labels), kind: 'DICOM' });
  warnUnlabeled(ctx, unlabeled, labelsWhere(params.labels));
  const summary = { files: files.length, ingested: rows.length, duplicates: duplicates.length, failed: failed.length, unlabeled: unlabeled.length };
  for (const d of duplicates.slice(0, SHOWN_DUPLICATES)) ctx.log.warn(`skipped ${d.path}: same SOPInstanceUID as ${d.kept} (kept)`);
  if (duplicates.length > SHOWN_DUPLICATES) ctx.log.warn(`... and ${duplicates.length - SHOWN_DUPLICATES} more duplicates (meta.duplicates lists them all)`);
  if (duplicates.length) ctx.log.info('dedupe: false keeps files that share a SOPInstanceUID (one image in several encodings, as in DICOM test suites)');
  ctx.log.info(`ingested ${rows.length} of ${files.length} files (${duplicates.length} duplicate SOPInstanceUIDs, ${failed.length} failed${labels.active ? `, ${unlabeled.length} without labels` : ''})`);
  const { summary: labelSummary, ...meta } = labelMeta(ctx, labels, rows);
  return {
    kind: 'dataset',
    rows,
    meta: {
      classes: classList(rows, labels.declaredClasses),
      ...meta,
      pseudonymized: !params.keep_original_patient_ids,
      summary: { ...summary, ...labelSummary },
      failed,
      duplicates,
    },
  };
}

async function parseFile(ctx: StageContext, file: SourceFile, params: IngestDicomParams, salt: string | undefined): Promise<ParsedFile> {
  let path = file.path;
  let temp: string | undefined;
  if (!path) {
    temp = path = join(await ctx.scratchDir(), file.blob!);
    await writeFile(path, await ctx.store.getBlob(file.blob!));
  }
  try {
    // dicom-parser loads when the stage runs, not with the CLI.
    const { readDicomFileHeader } = await import('../ops/dicom/header.ts');
    const { patientId, patientName, ...header } = await readDicomFileHeader(path);
    const dicom = file.blob ?? (await ctx.store.putBlobFromFile(path));
    if (salt !== undefined) {
      // PS3.15 E.1 action U; a pseudonym dedupes and groups exactly as the UID it replaces.
      for (const k of ['sopInstanceUid', 'studyUid', 'seriesUid'] as const) header[k] = pseudonymizeUid(header[k], salt);
    }
    return { dicom, patient: patientPseudonym(patientId ?? patientName, params), header };
  } finally {
    if (temp) await rm(temp, { force: true });
  }
}

function clean<T extends Record<string, unknown>>(row: T): T {
  for (const k of Object.keys(row)) if (row[k] === undefined) delete row[k];
  return row;
}
