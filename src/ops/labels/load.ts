import { basename, extname } from 'node:path';
import { parseCsv } from './csv.ts';
import { joinGeneric, type GenericColumns } from './generic.ts';
import { joinRsna } from './rsna.ts';
import type { ImageLabels } from './types.ts';
import { joinVinbig } from './vinbig.ts';

export type LabelFormat = 'auto' | 'vinbig' | 'rsna' | 'generic';

/** Labels by image key, plus which format was used. */
export interface LabelTable {
  format: Exclude<LabelFormat, 'auto'>;
  byKey: Map<string, ImageLabels>;
}

const ID_GUESSES = ['id', 'image_id', 'Image Index', 'image', 'filename', 'file'];
const PATH_GUESSES = ['path', 'file_path', 'filepath'];
const LABEL_GUESSES = ['labels', 'label', 'Finding Labels', 'class', 'class_name'];

/** Parses a labels CSV in the given (or detected) format. `where` names the file in errors. */
export function loadLabelTable(text: string, format: LabelFormat, columns: Partial<GenericColumns>, where: string): LabelTable {
  const { header, rows } = parseCsv(text);
  const has = (...c: string[]) => c.every((x) => header.includes(x));
  let chosen = format;
  if (chosen === 'auto') chosen = has('image_id', 'class_name', 'rad_id') ? 'vinbig' : has('patientId', 'Target') ? 'rsna' : 'generic';
  if (chosen === 'vinbig') return { format: chosen, byKey: joinVinbig(rows, where) };
  if (chosen === 'rsna') return { format: chosen, byKey: joinRsna(rows, where) };
  const cols: GenericColumns = { separator: '|', ...columns } as GenericColumns;
  if (!cols.id_column && !cols.path_column) {
    cols.path_column = PATH_GUESSES.find((c) => header.includes(c));
    if (!cols.path_column) cols.id_column = ID_GUESSES.find((c) => header.includes(c));
  }
  if (!cols.label_column && !cols.label_columns?.length) cols.label_column = LABEL_GUESSES.find((c) => header.includes(c));
  if (!cols.patient_column) cols.patient_column = ['patient', 'patient_id', 'Patient ID'].find((c) => header.includes(c));
  if (!cols.split_column && header.includes('split')) cols.split_column = 'split';
  return { format: 'generic', byKey: joinGeneric(header, rows, cols, where) };
}

/** The keys an image may be listed under: relative path, file name, file stem, and extra ids (e.g. SOPInstanceUID). */
export function imageKeys(relPath: string, ...ids: Array<string | undefined>): string[] {
  const name = basename(relPath);
  const stem = name.slice(0, name.length - extname(name).length);
  return [relPath, name, stem, ...ids.filter((x): x is string => !!x)];
}

export function findLabels(table: LabelTable, keys: string[]): ImageLabels | undefined {
  for (const k of keys) {
    const hit = table.byKey.get(k);
    if (hit) return hit;
  }
  return undefined;
}

/** Folder-per-class: the first folder of the path relative to the source is the class. */
export function folderLabel(relPath: string): string | undefined {
  const parts = relPath.split('/');
  return parts.length > 1 ? parts[0] : undefined;
}
