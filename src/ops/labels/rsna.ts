import type { Box } from '../../data-model.ts';
import type { ImageLabels } from './types.ts';

export const RSNA_CLASS = 'Lung Opacity';

/** RSNA pneumonia CSV (`patientId,x,y,width,height,Target`): one row per box; Target 0 -> no labels. */
export function joinRsna(rows: Record<string, string>[], where: string): Map<string, ImageLabels> {
  const out = new Map<string, ImageLabels>();
  rows.forEach((row, i) => {
    const id = row.patientId;
    if (!id) throw new Error(`${where}: line ${i + 2} lacks patientId`);
    let entry = out.get(id);
    if (!entry) out.set(id, (entry = { labels: [], boxes: [] }));
    if (row.Target !== '1') return;
    const [x, y, w, h] = [row.x, row.y, row.width, row.height].map(Number);
    if ([x, y, w, h].some(Number.isNaN)) throw new Error(`${where}: line ${i + 2} has Target 1 but a non-numeric box`);
    if (!entry.labels.includes(RSNA_CLASS)) entry.labels.push(RSNA_CLASS);
    const box: Box = { label: RSNA_CLASS, x_min: x, y_min: y, x_max: x + w, y_max: y + h };
    entry.boxes!.push(box);
  });
  return out;
}
