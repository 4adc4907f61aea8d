import type { ImageLabels } from './types.ts';

export interface GenericColumns {
  /** Column naming the image by id (file stem, or SOPInstanceUID for DICOM). */
  id_column?: string;
  /** Column naming the image by path relative to the source folder (or by file name). */
  path_column?: string;
  /** One column listing class names, split by `separator` (e.g. NIH `Finding Labels`). */
  label_column?: string;
  separator: string;
  /** Several 0/1 columns, one per class (the column name is the class). */
  label_columns?: string[];
  patient_column?: string;
  split_column?: string;
  /** Class name meaning "nothing found"; kept as its own label when listed. */
  no_finding?: string;
}

const SPLITS = new Set(['train', 'val', 'test']);

/** A generic CSV -> labels per image key (id or path). Several rows for one key merge their labels. */
export function joinGeneric(header: string[], rows: Record<string, string>[], cols: GenericColumns, where: string): Map<string, ImageLabels> {
  const keyColumn = cols.id_column ?? cols.path_column;
  const need = [keyColumn, cols.label_column, ...(cols.label_columns ?? []), cols.patient_column, cols.split_column].filter((c): c is string => !!c);
  for (const c of need) {
    if (!header.includes(c)) throw new Error(`${where}: no column "${c}" (columns: ${header.join(', ')})`);
  }
  if (!keyColumn) throw new Error(`${where}: say which column names the image (id_column or path_column)`);
  if (!cols.label_column && !cols.label_columns?.length) throw new Error(`${where}: say where the labels are (label_column or label_columns)`);
  const out = new Map<string, ImageLabels>();
  rows.forEach((row, i) => {
    const key = row[keyColumn];
    if (!key) throw new Error(`${where}: line ${i + 2} has an empty ${keyColumn}`);
    let entry = out.get(key);
    if (!entry) out.set(key, (entry = { labels: [] }));
    const names = cols.label_column
      ? row[cols.label_column].split(cols.separator).map((s) => s.trim()).filter(Boolean)
      : cols.label_columns!.filter((c) => isTrue(row[c], where, i, c));
    for (const n of names) if (!entry.labels.includes(n)) entry.labels.push(n);
    if (cols.patient_column && row[cols.patient_column]) entry.patient = row[cols.patient_column];
    if (cols.split_column && row[cols.split_column]) {
      const split = row[cols.split_column].toLowerCase();
      if (!SPLITS.has(split)) throw new Error(`${where}: line ${i + 2}: split "${row[cols.split_column]}" is not train, val or test`);
      entry.split = split as ImageLabels['split'];
    }
  });
  for (const e of out.values()) e.labels.sort();
  return out;
}

function isTrue(v: string, where: string, i: number, column: string): boolean {
  if (v === '1' || v === '1.0' || v.toLowerCase() === 'true') return true;
  if (v === '0' || v === '0.0' || v === '' || v.toLowerCase() === 'false') return false;
  throw new Error(`${where}: line ${i + 2}, column ${column}: "${v}" is not 0/1`);
}
