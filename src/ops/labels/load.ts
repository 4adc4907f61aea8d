import { SPLIT_ALIASES, type HoldoutSplit } from '../splits/kfold.ts';
import { basename, extname } from 'node:path';
import { parseCsv } from './csv.ts';
import { BOX_COLUMN_GUESSES, joinGeneric, type GenericColumns } from './generic.ts';
import type { ReadContext } from './read-context.ts';
import { joinRsna } from './rsna.ts';
import type { ImageLabels } from './types.ts';
import { joinVinbig } from './vinbig.ts';

export type CsvLabelFormat = 'auto' | 'vinbig' | 'rsna' | 'generic';
export type LabelFormatName = 'vinbig' | 'rsna' | 'generic' | 'voc' | 'coco' | 'yolo';

/** Labels by image key, plus which format was used. */
export interface LabelTable {
  format: LabelFormatName;
  byKey: Map<string, ImageLabels>;
  /** Class names the source declares (COCO categories, YOLO names), in index order. */
  classes?: string[];
}

const ID_GUESSES = ['id', 'image_id', 'Image Index', 'image', 'filename', 'file'];
const PATH_GUESSES = ['path', 'file_path', 'filepath'];
const LABEL_GUESSES = ['labels', 'label', 'Finding Labels', 'class', 'class_name'];
const READER_GUESSES = ['reader', 'rad_id', 'annotator'];

/** Parses a labels CSV in the given (or detected) format. `where` names the file in errors and issues. */
export function loadLabelTable(text: string, format: CsvLabelFormat, columns: Partial<GenericColumns>, where: string, read: ReadContext): LabelTable {
  const { header, rows } = parseCsv(text);
  const has = (...c: string[]) => c.every((x) => header.includes(x));
  let chosen = format;
  if (chosen === 'auto') chosen = has('image_id', 'class_name', 'rad_id') ? 'vinbig' : has('patientId', 'Target') ? 'rsna' : 'generic';
  if (chosen === 'vinbig') return { format: chosen, byKey: joinVinbig(rows, where, read) };
  if (chosen === 'rsna') return { format: chosen, byKey: joinRsna(rows, where, read) };
  const cols: GenericColumns = { separator: '|', ...columns } as GenericColumns;
  if (!cols.id_column && !cols.path_column) {
    cols.path_column = PATH_GUESSES.find((c) => header.includes(c));
    if (!cols.path_column) cols.id_column = ID_GUESSES.find((c) => header.includes(c));
  }
  if (!cols.label_column && !cols.label_columns?.length) cols.label_column = LABEL_GUESSES.find((c) => header.includes(c));
  if (!cols.patient_column) cols.patient_column = ['patient', 'patient_id', 'Patient ID'].find((c) => header.includes(c));
  if (!cols.split_column && header.includes('split')) cols.split_column = 'split';
  if (!cols.box_columns) {
    const guess = BOX_COLUMN_GUESSES.find((g) => has(...g.columns));
    if (guess) [cols.box_columns, cols.box_format] = [guess.columns, cols.box_format ?? guess.format];
  }
  cols.box_format ??= 'xyxy';
  if (cols.box_columns && !cols.reader_column) cols.reader_column = READER_GUESSES.find((c) => header.includes(c));
  return { format: 'generic', byKey: joinGeneric(header, rows, cols, where, read) };
}

/**
 * A table from per-file entries (VOC, YOLO, COCO) named by a path relative to their folder: each is
 * reachable by its path and path without extension, and by its file name and stem unless another entry
 * has that path or the same name/stem (same stem in two folders): such a key is dropped so that it can
 * never join the wrong image; the paths still match.
 */
export function tableFromEntries(format: LabelFormatName, entries: ReadonlyArray<{ path: string; labels: ImageLabels }>, classes?: string[]): LabelTable {
  const byKey = new Map<string, ImageLabels>();
  const weak = new Map<string, ImageLabels | null>();
  for (const { path, labels } of entries) {
    const [rel, withoutExt, name, stem] = pathKeys(path);
    byKey.set(rel, labels);
    byKey.set(withoutExt, labels);
    for (const key of new Set([name, stem])) weak.set(key, weak.has(key) && weak.get(key) !== labels ? null : labels);
  }
  for (const [key, labels] of weak) if (labels && !byKey.has(key)) byKey.set(key, labels);
  return { format, byKey, ...(classes ? { classes } : {}) };
}

function pathKeys(relPath: string): [string, string, string, string] {
  const name = basename(relPath);
  const ext = extname(name);
  return [relPath, relPath.slice(0, relPath.length - ext.length), name, name.slice(0, name.length - ext.length)];
}

/** The keys an image may be listed under: relative path, path without extension, file name, file stem, and extra ids (e.g. SOPInstanceUID). */
export function imageKeys(relPath: string, ...ids: Array<string | undefined>): string[] {
  return [...new Set([...pathKeys(relPath), ...ids.filter((x): x is string => !!x)])];
}

export function findLabels(table: LabelTable, keys: string[]): ImageLabels | undefined {
  for (const k of keys) {
    const hit = table.byKey.get(k);
    if (hit) return hit;
  }
  return undefined;
}

/**
 * Folder-per-class: the first folder of the path relative to the source is the class, unless it names a
 * part (`train/`, `val/`, `valid/`, `test/`, ...: the ImageFolder layout of many public sets) and the
 * image lies one folder deeper: then that part is the split and the next folder the class.
 */
export function folderLabel(relPath: string): { label: string; split?: HoldoutSplit } | undefined {
  const parts = relPath.split('/');
  if (parts.length < 2) return undefined;
  const split = SPLIT_ALIASES[parts[0].toLowerCase()];
  return split && parts.length > 2 ? { label: parts[1], split } : { label: parts[0] };
}
