import type { Box } from '../data-model.ts';
import { StageInputError } from '../engine/stage.ts';
import { meanAveragePrecision, withNoFindingBox, type ClassAp, type LabelledBox } from '../ops/boxes/map.ts';
import type { PredictionRow } from './predictions.ts';

export interface DetectionOptions {
  iouThr: number;
  /** The VinBigData "No finding" class name; images without truth boxes get this box [0, 0, 1, 1]. */
  noFinding: string;
  classes: readonly string[];
}

export interface DetectionReport {
  map: number;
  iouThr: number;
  perClass: ClassAp[];
}

/**
 * mAP the VinBigData way: truth boxes per image (an image without boxes is one `No finding` box
 * [0, 0, 1, 1]); predictions likewise, where a missing `No finding` box takes the row's `No finding`
 * score when the classes have one, else (no boxes predicted at all) score 1.
 */
export function detectionReport(rows: readonly PredictionRow[], truthBoxes: (row: PredictionRow) => readonly Box[] | undefined, options: DetectionOptions): DetectionReport {
  const nfIndex = options.classes.indexOf(options.noFinding);
  const images = rows.map((row) => {
    const truth = truthBoxes(row);
    if (!truth) throw new StageInputError(`image ${row.id}: no truth boxes (neither a truth_boxes column nor a matching row in a dataset input)`, 'give evaluate the dataset too: from: { predictions: ensemble, data: split }');
    const predicted: LabelledBox[] = [...(row.boxes ?? [])];
    if (!predicted.some((b) => b.label === options.noFinding)) {
      const nfScore = nfIndex >= 0 ? row.scores?.[nfIndex] : undefined;
      if (nfScore !== undefined) predicted.push(...withNoFindingBox([], options.noFinding, nfScore));
      else if (predicted.length === 0) predicted.push(...withNoFindingBox([], options.noFinding, 1));
    }
    const truthList = truth.filter((b) => b.label !== options.noFinding);
    return { truth: withNoFindingBox(truthList, options.noFinding), predicted };
  });
  const labels = new Set<string>(options.classes);
  for (const im of images) for (const b of [...im.truth, ...im.predicted]) labels.add(b.label);
  const { map, perClass } = meanAveragePrecision(images, [...labels], options.iouThr);
  return { map, iouThr: options.iouThr, perClass };
}
