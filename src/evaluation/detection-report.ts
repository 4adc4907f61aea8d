import type { Box } from '../data-model.ts';
import { StageInputError } from '../engine/stage.ts';
import { iou } from '../ops/boxes/iou.ts';
import { withNoFindingBox, type DetectionImage, type LabelledBox } from '../ops/boxes/map.ts';
import { FROC_RATES } from '../ops/boxes/froc.ts';
import { lineChart } from '../ops/report/svg.ts';
import { detectionMetrics, type DetectionMetrics } from './detection-metrics.ts';
import type { PredictionRow } from './predictions.ts';

export interface DetectionTruth {
  boxes: readonly Box[];
  /** Image-level truth labels (a "No finding" label switches the VinBigData convention on). */
  labels?: readonly string[];
}

export interface DetectionOptions {
  /** IoU above which a detection hits a lesion (FROC) and counts as found in the gallery. */
  iouThr: number;
  /** The VinBigData "No finding" class, or false; used when the classes or the truth labels name it. */
  noFinding: string | false;
  classes: readonly string[];
  bootstrap?: { n: number; seed: number; level: number; groups?: readonly string[] };
}

export interface DetectionReport extends DetectionMetrics {
  /** Whether images without boxes were scored as one "No finding" box [0, 0, 1, 1] (VinBigData). */
  noFindingConvention: boolean;
  labels: string[];
}

/**
 * Detection metrics of prediction rows against their truth. With the VinBigData convention (the
 * `noFinding` class is among the classes or truth labels), an image without truth boxes has one
 * `No finding` box [0, 0, 1, 1]; a row without a predicted `No finding` box gets one with the row's
 * `No finding` score when the classes have one, else (no boxes predicted at all) with score 1.
 */
export function detectionReport(rows: readonly PredictionRow[], truthOf: (row: PredictionRow) => DetectionTruth | undefined, options: DetectionOptions): DetectionReport {
  const truths = rows.map((row) => {
    const truth = truthOf(row);
    if (!truth) throw new StageInputError(`image ${row.id}: no truth boxes (neither a truth_boxes column nor a matching row in a dataset input)`, 'give evaluate the dataset too: from: { predictions: ensemble, data: split }');
    return truth;
  });
  const nf = options.noFinding;
  const convention = nf !== false && (options.classes.includes(nf) || truths.some((t) => t.labels?.includes(nf)) || rows.some((r) => r.labels?.includes(nf)));
  const images = rows.map((row, i) => detectionImage(row, truths[i].boxes, convention ? nf : false, options.classes));
  const labels = new Set<string>(options.classes);
  for (const im of images) for (const b of [...im.truth, ...im.predicted]) labels.add(b.label);
  const lesionLabels = [...labels].filter((l) => !convention || l !== nf);
  const metrics = detectionMetrics(images, { labels: [...labels], lesionLabels, frocIouThr: options.iouThr, ...(options.bootstrap ? { bootstrap: options.bootstrap } : {}) });
  return { ...metrics, noFindingConvention: convention, labels: [...labels] };
}

/** Truth and predictions of one row as the metrics see them. */
export function detectionImage(row: PredictionRow, truth: readonly Box[], noFinding: string | false, classes: readonly string[]): DetectionImage {
  const predicted: LabelledBox[] = [...(row.boxes ?? [])];
  if (noFinding === false) return { truth: [...truth], predicted };
  if (!predicted.some((b) => b.label === noFinding)) {
    const nfIndex = classes.indexOf(noFinding);
    const nfScore = nfIndex >= 0 ? row.scores?.[nfIndex] : undefined;
    if (nfScore !== undefined) predicted.push(...withNoFindingBox([], noFinding, nfScore));
    else if (predicted.length === 0) predicted.push(...withNoFindingBox([], noFinding, 1));
  }
  return { truth: withNoFindingBox(truth.filter((b) => b.label !== noFinding), noFinding), predicted };
}

/** Per-image outcome at a score threshold: greedy same-label matching by score at IoU > iouThr. */
export interface ImageOutcome {
  tp: LabelledBox[];
  fp: LabelledBox[];
  /** Truth boxes found / missed. */
  found: LabelledBox[];
  missed: LabelledBox[];
  f1: number;
}

export function imageOutcome(image: DetectionImage, scoreThr: number, iouThr: number, ignore?: string): ImageOutcome {
  const truth = image.truth.filter((b) => b.label !== ignore);
  const taken = truth.map(() => false);
  const out: ImageOutcome = { tp: [], fp: [], found: [], missed: [], f1: 1 };
  const predicted = image.predicted.filter((b) => b.label !== ignore && (b.score ?? 1) >= scoreThr).sort((a, b) => (b.score ?? 1) - (a.score ?? 1));
  for (const p of predicted) {
    let best = -1;
    let bestIou = iouThr;
    truth.forEach((t, j) => {
      if (taken[j] || t.label !== p.label) return;
      const v = iou(t, p);
      if (v > bestIou) {
        bestIou = v;
        best = j;
      }
    });
    if (best < 0) out.fp.push(p);
    else {
      taken[best] = true;
      out.tp.push(p);
    }
  }
  truth.forEach((t, j) => (taken[j] ? out.found : t.difficult ? [] : out.missed).push(t));
  const errors = out.fp.length + out.missed.length;
  out.f1 = out.tp.length + errors === 0 ? 1 : (2 * out.tp.length) / (2 * out.tp.length + errors);
  return out;
}

/** The score threshold with the best pooled F1 (TP, FP, FN over all images), for the gallery. */
export function bestF1Threshold(images: readonly DetectionImage[], iouThr: number, ignore?: string): { threshold: number; f1: number } {
  const scores = [...new Set(images.flatMap((im) => im.predicted.filter((b) => b.label !== ignore).map((b) => b.score ?? 1)))].sort((a, b) => b - a);
  let best = { threshold: scores[0] ?? 0.5, f1: -1 };
  // At most ~200 candidate thresholds: quantiles of the scores.
  const step = Math.max(1, Math.floor(scores.length / 200));
  for (let i = 0; i < scores.length; i += step) {
    let tp = 0;
    let errors = 0;
    for (const im of images) {
      const o = imageOutcome(im, scores[i], iouThr, ignore);
      tp += o.tp.length;
      errors += o.fp.length + o.missed.length;
    }
    const f1 = tp + errors ? (2 * tp) / (2 * tp + errors) : 0;
    if (f1 > best.f1) best = { threshold: scores[i], f1 };
  }
  return best;
}

/** Precision-recall curves per class (VOC, IoU > 0.5) and the FROC curve as SVG plots. */
export function detectionPlots(report: DetectionReport): Record<string, string> {
  const plots: Record<string, string> = {};
  const pr = Object.entries(report.curves.pr);
  if (pr.length) {
    plots['plots/pr-boxes.svg'] = lineChart({
      title: 'Precision-recall per class (IoU > 0.5)',
      xLabel: 'recall',
      yLabel: 'precision',
      xRange: [0, 1],
      yRange: [0, 1],
      series: pr.map(([label, c]) => ({ name: `${label} AP ${fmt(report.metrics[`ap_50/${label}`])}`, x: [0, ...c.recall], y: [c.precision[0] ?? 0, ...c.precision] })),
    });
  }
  const froc = report.curves.froc;
  if (froc.fpPerImage.length > 1) {
    const lo = Math.log2(FROC_RATES[0]);
    const hi = Math.log2(FROC_RATES[FROC_RATES.length - 1]);
    const points = froc.fpPerImage.map((fp, i) => [fp, froc.sensitivity[i]] as const).filter(([fp]) => fp >= FROC_RATES[0] && fp <= FROC_RATES[FROC_RATES.length - 1]);
    plots['plots/froc.svg'] = lineChart({
      title: `FROC (mean sensitivity ${fmt(report.metrics.froc_mean)})`,
      xLabel: 'false positives per image (log2 scale)',
      yLabel: 'sensitivity',
      xRange: [lo, hi],
      yRange: [0, 1],
      xTickFormat: (v) => String(Number((2 ** v).toPrecision(3))),
      xTickCount: hi - lo,
      series: [
        { name: 'FROC', x: points.map(([fp]) => Math.log2(fp)), y: points.map(([, s]) => s) },
        { name: 'at 1/8 .. 8 FP', x: FROC_RATES.map((r) => Math.log2(r)), y: FROC_RATES.map((r) => report.metrics[`froc_${r}`]) },
      ],
    });
  }
  return plots;
}

const fmt = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(3));
