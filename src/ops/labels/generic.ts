import { boxNumbers, isDegenerate, isUnknownClass } from './box-values.ts';
import type { ReadContext } from './read-context.ts';
import type { ImageLabels, SourceBox } from './types.ts';

export interface GenericColumns {
  /** Column naming the image by id (file stem, or SOPInstanceUID for DICOM). */
  id_column?: string;
  /** Column naming the image by path relative to the source folder (or by file name). */
  path_column?: string;
  /** One column listing class names, split by `separator` (e.g. NIH `Finding Labels`); with boxes: the box's class. */
  label_column?: string;
  separator: string;
  /** Several 0/1 columns, one per class (the column name is the class). */
  label_columns?: string[];
  patient_column?: string;
  split_column?: string;
  /** Four columns of a box per row: corners (`xyxy`) or corner + size (`xywh`), continuous pixels. */
  box_columns?: [string, string, string, string];
  box_format?: 'xyxy' | 'xywh';
  /** Column naming the annotator of each box. */
  reader_column?: string;
}

const SPLITS = new Set(['train', 'val', 'test']);

/** Box columns recognised in a header when `box_columns` is not given. */
export const BOX_COLUMN_GUESSES: ReadonlyArray<{ columns: [string, string, string, string]; format: 'xyxy' | 'xywh' }> = [
  { columns: ['x_min', 'y_min', 'x_max', 'y_max'], format: 'xyxy' },
  { columns: ['xmin', 'ymin', 'xmax', 'ymax'], format: 'xyxy' },
  { columns: ['x1', 'y1', 'x2', 'y2'], format: 'xyxy' },
  { columns: ['x', 'y', 'width', 'height'], format: 'xywh' },
  { columns: ['x', 'y', 'w', 'h'], format: 'xywh' },
];

/**
 * A generic CSV -> labels per image key (id or path). Several rows for one key merge their labels.
 * With box columns each row with coordinates is one box of the class in `label_column`; a row whose
 * box cells are all empty gives an image-level label (or none: an image without findings).
 */
export function joinGeneric(header: string[], rows: Record<string, string>[], cols: GenericColumns, where: string, read: ReadContext): Map<string, ImageLabels> {
  const keyColumn = cols.id_column ?? cols.path_column;
  const need = [keyColumn, cols.label_column, ...(cols.label_columns ?? []), cols.patient_column, cols.split_column, ...(cols.box_columns ?? []), cols.reader_column].filter((c): c is string => !!c);
  for (const c of need) {
    if (!header.includes(c)) throw new Error(`${where}: no column "${c}" (columns: ${header.join(', ')})`);
  }
  if (!keyColumn) throw new Error(`${where}: say which column names the image (id_column or path_column)`);
  if (!cols.label_column && !cols.label_columns?.length) throw new Error(`${where}: say where the labels are (label_column or label_columns)`);
  if (cols.box_columns && !cols.label_column) throw new Error(`${where}: boxes need a label_column naming each box's class`);
  const out = new Map<string, ImageLabels>();
  rows.forEach((row, i) => {
    const at = `${where}:${i + 2}`;
    const key = row[keyColumn];
    if (!key) throw new Error(`${at}: empty ${keyColumn}`);
    let entry = out.get(key);
    if (!entry) out.set(key, (entry = { labels: [] }));
    if (cols.patient_column && row[cols.patient_column]) entry.patient = row[cols.patient_column];
    if (cols.split_column && row[cols.split_column]) {
      const split = row[cols.split_column].toLowerCase();
      if (!SPLITS.has(split)) throw new Error(`${at}: split "${row[cols.split_column]}" is not train, val or test`);
      entry.split = split as ImageLabels['split'];
    }
    const rawBox = cols.box_columns?.map((c) => row[c]);
    if (rawBox && rawBox.some((v) => v !== '')) return void addBox(entry, row, rawBox, cols, at, key, read);
    const names = cols.label_column
      ? row[cols.label_column].split(cols.separator).map((s) => s.trim()).filter(Boolean)
      : cols.label_columns!.filter((c) => isTrue(row[c], at, c));
    for (const n of names) if (!entry.labels.includes(n) && !isUnknownClass(n, read.classes, at, read.issues, key)) entry.labels.push(n);
  });
  for (const e of out.values()) e.labels.sort();
  return out;
}

function addBox(entry: ImageLabels, row: Record<string, string>, raw: string[], cols: GenericColumns, at: string, key: string, read: ReadContext): void {
  const label = row[cols.label_column!].trim();
  if (!label) return void read.issues.report('malformed', at, `box without a class in ${cols.label_column}`, key);
  if (isUnknownClass(label, read.classes, at, read.issues, key)) return;
  const xywh = cols.box_format === 'xywh';
  const v = boxNumbers(raw, cols.box_columns!, at, read.issues, key);
  if (!v) return;
  const [x_min, y_min, x_max, y_max] = xywh ? [v[0], v[1], v[0] + v[2], v[1] + v[3]] : v;
  const written = cols.box_columns!.map((c, k) => `${c} ${v[k]}`).join(' ');
  if (isDegenerate(x_max - x_min, y_max - y_min, written, at, read.issues, key)) return;
  const box: SourceBox = { label, x_min, y_min, x_max, y_max, at };
  const reader = (cols.reader_column && row[cols.reader_column]) || read.reader;
  if (reader) box.reader = reader;
  (entry.boxes ??= []).push(box);
}

function isTrue(v: string, at: string, column: string): boolean {
  if (v === '1' || v === '1.0' || v.toLowerCase() === 'true') return true;
  if (v === '0' || v === '0.0' || v === '' || v.toLowerCase() === 'false') return false;
  throw new Error(`${at}, column ${column}: "${v}" is not 0/1`);
}
