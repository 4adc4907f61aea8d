import { StageInputError, type StageContext } from '../engine/stage.ts';
import type { DatasetRow } from '../data-model.ts';
import { splitSourceGlob } from '../ops/labels/source.ts';
import type { LabelJoiner } from './label-join.ts';
import { labelSources, type LabelsParam } from './labels-params.ts';

/** What an ingest stage reads, for messages: `source` as written, its folder resolved, the glob, the kind of file. */
export interface SourceDescription {
  source?: string;
  root?: string;
  glob: string;
  kind: 'DICOM' | 'image';
}

/**
 * Fails at the source, as bad input (exit 2, nothing cached), when there is nothing to ingest: an
 * empty folder, a glob matching nothing, or files none of which is a candidate. Later stages would
 * otherwise fail on an empty dataset with a misleading message.
 */
export function requireSourceFiles(count: number, listed: number, d: SourceDescription): void {
  if (count > 0) return;
  const where = d.source ? `source ${d.source}${d.root ? ` (${d.root})` : ''}` : 'the input artifact';
  const glob = d.source ? (splitSourceGlob(d.source).glob ?? d.glob) : undefined;
  const expected = d.kind === 'DICOM' ? 'DICOM files' : 'PNG, JPEG or TIFF images';
  if (listed > 0) {
    throw new StageInputError(`${where} has ${listed} files but no ${expected} among them`, d.kind === 'DICOM' ? 'images and CSV/JSON/text files are not read as DICOM: for PNG/JPEG use uses: ingest-images' : 'only .png, .jpg and .jpeg files are read: for DICOM use uses: ingest-dicom');
  }
  throw new StageInputError(`${where} has no ${expected}${glob ? ` matching ${glob}` : ''}: expected a folder (or glob) of ${expected}`, glob ? 'check source: and glob: (paths are relative to the experiment file)' : 'the upstream stage produced no files');
}

/**
 * After reading: fails when no file could be read, or when a labels file was given and matches none
 * of the images (wrong column, ids with or without extensions...): a dataset without labels would
 * only fail at training, stages later.
 */
export function requireIngested(o: { files: number; rows: readonly DatasetRow[]; failed: Array<{ path: string; reason: string }>; unlabeled: number; labels: LabelJoiner; labelsWhere: string; kind: SourceDescription['kind'] }): void {
  if (o.rows.length === 0 && o.failed.length > 0) {
    const first = o.failed[0];
    throw new StageInputError(`none of the ${o.files} files could be read as ${o.kind === 'DICOM' ? 'DICOM' : 'an image'} (first: ${first.path}: ${first.reason})`, 'see the skipped files above; on_error: fail stops at the first one');
  }
  if (!o.labels.hasTables || o.rows.length === 0 || o.unlabeled < o.rows.length) return;
  const labelKeys = o.labels.sampleKeys(3).map((k) => JSON.stringify(k)).join(', ');
  const imagePaths = o.rows.slice(0, 3).map((r) => JSON.stringify(String(r.path))).join(', ');
  throw new StageInputError(
    `labels file ${o.labelsWhere} matches none of the ${o.rows.length} images: expected a row per image, keyed by its path, file name, file name without extension${o.kind === 'DICOM' ? ' or SOPInstanceUID' : ''}`,
    `the labels name ${labelKeys || 'nothing'}; the images are ${imagePaths}. Check the id/path column (labels: { path, path_column or id_column })`,
  );
}

/**
 * Images no labels source names get `labels: []` (no finding, no boxes): right for a CSV that lists only
 * positives, wrong for a missing VOC XML or a mistyped id, which would make a detector's true boxes count
 * as absent. Said, with a few ids, rather than counted quietly.
 */
export function warnUnlabeled(ctx: StageContext, ids: readonly string[], where: string): void {
  if (!ids.length) return;
  ctx.log.warn(`${ids.length} image(s) have no entry in ${where}: ${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', ...' : ''}; they get no labels and no boxes`);
}

/** The labels files a stage reads, for messages (`labels.csv of the input` when none is given). */
export function labelsWhere(labels: LabelsParam): string {
  const paths = labelSources(labels).flatMap((s) => (s.format === 'folders' || !s.path ? [] : [s.path]));
  return paths.length ? paths.join(', ') : 'labels.csv of the input';
}
