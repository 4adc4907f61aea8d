import { boxNumbers, isDegenerate } from './box-values.ts';
import type { ReadContext } from './read-context.ts';
import type { ImageLabels, SourceBox } from './types.ts';

export const RSNA_CLASS = 'Lung Opacity';

/**
 * RSNA pneumonia CSV (`patientId,x,y,width,height,Target`): one row per box, `[x, x + width)` in
 * continuous pixels; Target 0 -> no labels. Bad boxes are reported and dropped (per the policy).
 */
export function joinRsna(rows: Record<string, string>[], where: string, read: ReadContext): Map<string, ImageLabels> {
  const out = new Map<string, ImageLabels>();
  rows.forEach((row, i) => {
    const id = row.patientId;
    const at = `${where}:${i + 2}`;
    if (!id) return void read.issues.report('malformed', at, 'row lacks patientId');
    let entry = out.get(id);
    if (!entry) out.set(id, (entry = { labels: [], boxes: [] }));
    if (row.Target !== '1') return;
    if (!entry.labels.includes(RSNA_CLASS)) entry.labels.push(RSNA_CLASS);
    const v = boxNumbers([row.x, row.y, row.width, row.height], ['x', 'y', 'width', 'height'], at, read.issues, id);
    if (!v || isDegenerate(v[2], v[3], `width ${v[2]} height ${v[3]}`, at, read.issues, id)) return;
    const box: SourceBox = { label: RSNA_CLASS, x_min: v[0], y_min: v[1], x_max: v[0] + v[2], y_max: v[1] + v[3], at };
    if (read.reader) box.reader = read.reader;
    entry.boxes!.push(box);
  });
  return out;
}
