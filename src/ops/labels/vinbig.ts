import { boxNumbers, isDegenerate, isUnknownClass } from './box-values.ts';
import { formatCsv } from './csv.ts';
import type { ReadContext } from './read-context.ts';
import type { ImageLabels, SourceBox } from './types.ts';

export const VINBIG_HEADER = ['image_id', 'class_name', 'class_id', 'rad_id', 'x_min', 'y_min', 'x_max', 'y_max'];
export const VINBIG_NO_FINDING = 'No finding';

export interface VinbigReading {
  imageId: string;
  className: string;
  classId: number;
  reader: string;
  box?: { x_min: number; y_min: number; x_max: number; y_max: number };
}

export function formatVinbigCsv(readings: VinbigReading[]): string {
  return formatCsv(
    VINBIG_HEADER,
    readings.map((r) => [r.imageId, r.className, r.classId, r.reader, ...(r.box ? [r.box.x_min, r.box.y_min, r.box.x_max, r.box.y_max] : ['', '', '', ''])]),
  );
}

/**
 * VinBigData rows (several readers per image) -> one entry per image: the union of class names and
 * every reader's box with `reader`. "No finding" is kept only when no reader saw a finding. Coordinates
 * are continuous pixel edges as written. Bad boxes are reported (the reader's class stays in `labels`).
 */
export function joinVinbig(rows: Record<string, string>[], where: string, read: ReadContext): Map<string, ImageLabels> {
  const out = new Map<string, ImageLabels>();
  rows.forEach((row, i) => {
    const id = row.image_id;
    const name = row.class_name;
    const at = `${where}:${i + 2}`;
    if (!id || !name) return void read.issues.report('malformed', at, 'row lacks image_id or class_name');
    if (name !== VINBIG_NO_FINDING && isUnknownClass(name, read.classes, at, read.issues, id)) return;
    let entry = out.get(id);
    if (!entry) out.set(id, (entry = { labels: [], boxes: [] }));
    if (!entry.labels.includes(name)) entry.labels.push(name);
    if (name === VINBIG_NO_FINDING || [row.x_min, row.y_min, row.x_max, row.y_max].every((v) => !v)) return;
    const v = boxNumbers([row.x_min, row.y_min, row.x_max, row.y_max], ['x_min', 'y_min', 'x_max', 'y_max'], at, read.issues, id);
    if (!v || isDegenerate(v[2] - v[0], v[3] - v[1], `x_min ${v[0]} x_max ${v[2]} y_min ${v[1]} y_max ${v[3]}`, at, read.issues, id)) return;
    const box: SourceBox = { label: name, x_min: v[0], y_min: v[1], x_max: v[2], y_max: v[3], at };
    const reader = row.rad_id || read.reader;
    if (reader) box.reader = reader;
    entry.boxes!.push(box);
  });
  for (const entry of out.values()) {
    if (entry.labels.length > 1) entry.labels = entry.labels.filter((l) => l !== VINBIG_NO_FINDING);
    entry.labels.sort();
  }
  return out;
}
