import type { Box } from '../../data-model.ts';
import { formatCsv } from './csv.ts';
import type { ImageLabels } from './types.ts';

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
 * every reader's box with `reader`. "No finding" is kept only when no reader saw a finding.
 */
export function joinVinbig(rows: Record<string, string>[], where: string): Map<string, ImageLabels> {
  const out = new Map<string, ImageLabels>();
  rows.forEach((row, i) => {
    const id = row.image_id;
    const name = row.class_name;
    if (!id || !name) throw new Error(`${where}: line ${i + 2} lacks image_id or class_name`);
    let entry = out.get(id);
    if (!entry) out.set(id, (entry = { labels: [], boxes: [] }));
    if (!entry.labels.includes(name)) entry.labels.push(name);
    if (row.x_min !== '' && row.x_min !== undefined && name !== VINBIG_NO_FINDING) {
      const box: Box = { label: name, x_min: num(row.x_min), y_min: num(row.y_min), x_max: num(row.x_max), y_max: num(row.y_max) };
      if (row.rad_id) box.reader = row.rad_id;
      if ([box.x_min, box.y_min, box.x_max, box.y_max].some(Number.isNaN)) throw new Error(`${where}: line ${i + 2} has a non-numeric box`);
      entry.boxes!.push(box);
    }
  });
  for (const entry of out.values()) {
    if (entry.labels.length > 1) entry.labels = entry.labels.filter((l) => l !== VINBIG_NO_FINDING);
    entry.labels.sort();
  }
  return out;
}

const num = (s: string) => (s === undefined || s === '' ? NaN : Number(s));
