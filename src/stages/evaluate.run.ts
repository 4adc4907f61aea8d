import type { Box, ImageGeometry } from '../data-model.ts';
import type { DetectionImage } from '../ops/boxes/map.ts';
import { boxesFromOriginal, boxesToOriginal } from '../ops/boxes/transform.ts';
import { StageInputError, type StageContext, type StageInput } from '../engine/stage.ts';
import { classificationReport, type ClassificationReport } from '../evaluation/classification-report.ts';
import { detectionImage, detectionPlots, detectionReport, type DetectionReport } from '../evaluation/detection-report.ts';
import { detectionGallery } from '../evaluation/detection-gallery.ts';
import { learningCurvePlots } from '../evaluation/learning-curves.ts';
import { predictionsMeta, requireUniqueIds, selectSplit, toClassificationData, type PredictionRow } from '../evaluation/predictions.ts';
import { chooseThreshold, transferByRate, type ChosenThreshold } from '../evaluation/thresholds.ts';
import { column } from '../ops/metrics/averaging.ts';
import { renderHtmlReport } from '../ops/report/html.ts';
import type { ArtifactDraft } from '../engine/artifact.ts';
import type { EvaluateParams } from './evaluate.ts';
import { choosePositiveClass } from '../evaluation/positive-class.ts';

/** `positive` of report.json: the class the plain metric names report, and why it is the one. */
interface PositiveReport {
  class: string;
  why: string;
}

/** The report of an evaluation with nothing to evaluate (`if_no_rows: skip`): no metrics, the reason. */
function skipped(ctx: StageContext, reason: string, p: EvaluateParams): ArtifactDraft {
  ctx.log.info(reason);
  const files = {
    'report.json': JSON.stringify({ split: p.split, rows: 0, skipped: reason, params: p }, null, 1),
    'report.html': renderHtmlReport({ title: `Evaluation (${p.split}): skipped`, facts: { split: p.split, images: 0 }, metrics: [], plots: [], notes: [reason] }),
  };
  return { kind: 'report', files, meta: { metrics: {}, split: p.split, rows: 0, skipped: reason } };
}

/** The implementation of the evaluate stage, imported on its first run (src/stages/evaluate.ts defines it). */
export async function run(ctx: StageContext, inputs: StageInput[], p: EvaluateParams): Promise<ArtifactDraft> {
  const predictionsInputs = inputs.filter((i) => i.artifact.kind === 'predictions');
  if (predictionsInputs.length !== 1) {
    throw new StageInputError(`evaluate needs exactly one predictions input, got ${predictionsInputs.length} (${inputs.map((i) => `${i.name}: ${i.artifact.kind}`).join(', ')})`, 'combine several with an ensemble stage first');
  }
  const input = predictionsInputs[0];
  const { classes, task } = predictionsMeta(input.artifact, input.name);
  const all = await ctx.readRows<PredictionRow>(input.artifact);
  const rows = selectSplit(all, p.split);
  if (rows.length === 0) {
    const splits = [...new Set(all.map((r) => r.split ?? '(none)'))].join(', ');
    if (p.if_no_rows === 'skip') return skipped(ctx, `no rows in the "${p.split}" part of input "${input.name}" (splits present: ${splits}): nothing evaluated (if_no_rows: skip)`, p);
    throw new StageInputError(`input "${input.name}" has no rows in the "${p.split}" part (splits present: ${splits})`, "set split: val for out-of-fold predictions, or split: all");
  }
  requireUniqueIds(rows, p.split);
  const notes: string[] = [];
  const metrics: Record<string, number> = {};
  const files: Record<string, string> = {};
  const json: Record<string, unknown> = { task, classes, split: p.split, rows: rows.length, params: p };

  const hasScores = task !== 'detection' && rows.every((r) => Array.isArray(r.scores));
  let positive: PositiveReport | undefined;
  if (hasScores) {
    let groups = p.metrics;
    const kind = input.artifact.meta.scores;
    const notProbabilities = kind === 'rank' ? 'rank averages' : kind === 'anomaly' ? 'anomaly scores (reconstruction errors)' : undefined;
    if (notProbabilities && groups.includes('calibration')) {
      groups = groups.filter((g) => g !== 'calibration');
      notes.push(`scores are ${notProbabilities}, not probabilities: calibration skipped`);
    }
    const cls = classify(ctx, all, rows, classes, task, { ...p, metrics: groups }, notes, kind === 'anomaly');
    Object.assign(metrics, flattenMetrics(cls.report));
    Object.assign(files, cls.report.plots);
    positive = cls.positive;
    Object.assign(json, { positive, thresholds: cls.thresholds, metrics: cls.report.metrics, ci: cls.report.ci, bootstrap: cls.report.bootstrap, curves: cls.report.curves, confusion: cls.report.confusion });
  }
  let detection: DetectionReport | undefined;
  const sections: Array<{ title: string; html: string }> = [];
  if (task === 'detection' || rows.some((r) => Array.isArray(r.boxes))) {
    const d = await evaluateDetection(ctx, inputs, rows, classes, p, notes);
    detection = d.report;
    Object.assign(metrics, d.metrics);
    Object.assign(files, d.files);
    sections.push(...d.sections);
    json.detection = d.json;
  }
  if (!hasScores && !detection) throw new StageInputError(`input "${input.name}" rows have neither scores nor boxes`);
  Object.assign(files, learningCurvePlots(histories(inputs)));
  json.notes = notes;
  for (const note of notes) ctx.log.warn(note);
  const title = `Evaluation of ${input.stage} (${p.split}, ${rows.length} images)`;
  files['report.json'] = JSON.stringify(json, null, 1);
  files['report.html'] = renderHtmlReport({
    title,
    facts: { task, classes: classes.join(', '), ...(positive ? { 'positive class': `${positive.class} (${positive.why})` } : {}), split: p.split, images: rows.length, ...(p.bootstrap.n ? { bootstrap: `${p.bootstrap.n} × ${p.bootstrap.by}, seed ${p.bootstrap.seed}, ${p.bootstrap.level * 100}% percentile CI` } : {}) },
    metrics: Object.keys(metrics)
      .filter((k) => !k.endsWith('_ci_low') && !k.endsWith('_ci_high'))
      .map((k) => ({ name: k, value: metrics[k], low: metrics[`${k}_ci_low`], high: metrics[`${k}_ci_high`] })),
    plots: Object.entries(files).filter(([name]) => name.startsWith('plots/') && name.endsWith('.svg')).map(([name, svg]) => ({ caption: name.replace(/^plots\//, ''), svg })),
    notes,
    sections,
  });
  return { kind: 'report', files, meta: { metrics: finiteOnly(metrics), task, classes, ...(positive ? { positive: positive.class } : {}), split: p.split, rows: rows.length } };
}

/** `anomaly`: an anomaly detector's rows, whose negatives carry the normal label by design (tta writes it), not a stray label. */
function classify(ctx: StageContext, all: readonly PredictionRow[], rows: readonly PredictionRow[], classes: string[], task: Parameters<typeof toClassificationData>[2], p: EvaluateParams, notes: string[], anomaly: boolean): { report: ClassificationReport; thresholds: Record<string, ChosenThreshold>; positive?: PositiveReport } {
  const positive = choosePositiveClass(classes, task, p.positive, 'evaluate');
  if (positive) ctx.log.info(`positive class "${classes[positive.index]}" (${positive.why}): the plain metric names (auc, f1, ...) are its`);
  const data = toClassificationData(rows, classes, task);
  if (data.unknownLabels.length && !anomaly) notes.push(`labels not among the classes count as negative: ${data.unknownLabels.join(', ')}`);
  const thresholds: Record<string, ChosenThreshold> = {};
  if (task !== 'multiclass') {
    let reference = rows;
    // a fixed threshold is chosen on no rows: neither optimistic nor to be moved to another scale
    if (p.threshold_on === 'val' && !(typeof p.threshold === 'object' && 'fixed' in p.threshold)) {
      const val = all.filter((r) => r.split !== 'test');
      if (val.length && p.split === 'test') reference = val;
      else if (!val.length) notes.push('no out-of-fold (non-test) predictions to choose thresholds on: chosen on the evaluated rows (optimistic)');
      else notes.push(`thresholds chosen on the evaluated ${p.split} rows themselves (threshold-dependent metrics are optimistic)`);
    }
    const ref = toClassificationData(reference, classes, task);
    classes.forEach((cls, c) => {
      thresholds[cls] = chooseThreshold(p.threshold, column(ref.truth, c), column(ref.scores, c));
      if (p.threshold_transfer === 'rate' && reference !== rows) thresholds[cls] = transferByRate(thresholds[cls], column(ref.scores, c), column(data.scores, c));
      if (thresholds[cls].note) notes.push(`${cls}: ${thresholds[cls].note}`);
    });
  }
  let groups: string[] | undefined;
  if (p.bootstrap.by === 'patient') {
    if (rows.every((r) => typeof r.patient === 'string')) groups = rows.map((r) => r.patient!);
    else notes.push('rows carry no patient column: bootstrap resamples images');
  }
  const undefinedAuc = classes.filter((_, c) => new Set(column(data.truth, c)).size < 2);
  if (undefinedAuc.length && p.metrics.includes('auc')) notes.push(`ROC-AUC undefined (one outcome only) for: ${undefinedAuc.join(', ')}; macro averages leave them out`);
  ctx.log.info(`evaluating ${rows.length} ${task} predictions over ${classes.length} classes`);
  const report = classificationReport(data, p.metrics, classes.map((c) => thresholds[c]?.value ?? NaN), p.calibration_bins, p.bootstrap.n > 0 ? { n: p.bootstrap.n, seed: p.bootstrap.seed, level: p.bootstrap.level, groups } : undefined, positive?.index);
  for (const [cls, t] of Object.entries(thresholds)) report.metrics[`threshold/${cls}`] = t.value;
  return { report, thresholds, ...(positive ? { positive: { class: classes[positive.index], why: positive.why } } : {}) };
}

function flattenMetrics(report: ClassificationReport): Record<string, number> {
  const out: Record<string, number> = { ...report.metrics };
  for (const [k, ci] of Object.entries(report.ci)) {
    out[`${k}_ci_low`] = ci.low;
    out[`${k}_ci_high`] = ci.high;
  }
  return out;
}

function finiteOnly(metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).filter(([, v]) => Number.isFinite(v)));
}

interface DatasetTruth {
  /** In original-image pixels (the row's boxes mapped back through its geometry), the frame of predictions. */
  boxes: Box[];
  geometry?: ImageGeometry;
  labels?: string[];
  patient?: string;
  image?: string;
  width?: number;
  height?: number;
}

/**
 * Truth boxes, labels and images by image id from dataset inputs (for predictions without a truth_boxes column).
 * Truth is compared in original-image pixels, the frame of predictions (docs/detection.md#coordinates).
 */
async function datasetLookup(ctx: StageContext, inputs: readonly StageInput[]): Promise<Map<string, DatasetTruth>> {
  const lookup = new Map<string, DatasetTruth>();
  for (const input of inputs.filter((i) => i.artifact.kind === 'dataset')) {
    for (const row of await ctx.readRows(input.artifact)) {
      lookup.set(row.id, { boxes: boxesToOriginal(row.boxes ?? [], row.geometry), geometry: row.geometry, labels: row.labels, patient: row.patient, image: row.image, width: row.width, height: row.height });
    }
  }
  return lookup;
}

/** A gallery image: the boxes (original pixels) drawn on the dataset row's stored image, so moved into its frame. */
function galleryImage(row: PredictionRow, image: DetectionImage, d: DatasetTruth | undefined) {
  if (!d?.geometry) return { id: row.id, image, blob: d?.image, width: (row.width as number | undefined) ?? d?.width, height: (row.height as number | undefined) ?? d?.height };
  const moved = { truth: boxesFromOriginal(image.truth, d.geometry), predicted: boxesFromOriginal(image.predicted, d.geometry) };
  return { id: row.id, image: moved, blob: d.image, width: d.width, height: d.height };
}

/** Detection metrics with CIs, PR and FROC plots, and the gallery of drawn boxes. */
async function evaluateDetection(ctx: StageContext, inputs: readonly StageInput[], rows: readonly PredictionRow[], classes: string[], p: EvaluateParams, notes: string[]) {
  const data = await datasetLookup(ctx, inputs);
  const truthOf = (row: PredictionRow) => {
    const d = data.get(row.id);
    if (row.truth_boxes) return { boxes: row.truth_boxes, labels: row.labels ?? d?.labels };
    return d ? { boxes: d.boxes, labels: row.labels ?? d.labels } : undefined;
  };
  let groups: string[] | undefined;
  const patients = rows.map((r) => r.patient ?? data.get(r.id)?.patient);
  if (p.bootstrap.n > 0 && p.bootstrap.by === 'patient') {
    if (patients.every((x): x is string => typeof x === 'string')) groups = patients;
    else notes.push('rows carry no patient column: the detection bootstrap resamples images');
  }
  ctx.log.info(`evaluating detections on ${rows.length} images`);
  const report = detectionReport(rows, truthOf, {
    iouThr: p.iou_thr,
    noFinding: p.no_finding,
    classes,
    ...(p.bootstrap.n > 0 ? { bootstrap: { n: p.bootstrap.n, seed: p.bootstrap.seed, level: p.bootstrap.level, ...(groups ? { groups } : {}) } } : {}),
  });
  if (report.noFindingConvention) notes.push(`VinBigData convention: images without boxes are scored as one "${p.no_finding}" box [0, 0, 1, 1]`);
  const metrics: Record<string, number> = { ...report.metrics };
  for (const [k, ci] of Object.entries(report.ci)) {
    metrics[`${k}_ci_low`] = ci.low;
    metrics[`${k}_ci_high`] = ci.high;
  }
  const files = detectionPlots(report);
  const sections: Array<{ title: string; html: string }> = [];
  let gallery: { threshold: number; note: string } | undefined;
  if (p.gallery.per_group > 0) {
    const ignore = report.noFindingConvention && p.no_finding !== false ? p.no_finding : undefined;
    const images = rows.map((row) => {
      const d = data.get(row.id);
      const truth = truthOf(row)!;
      return galleryImage(row, detectionImage(row, truth.boxes, false, classes), d);
    });
    if (images.some((g) => g.blob)) {
      const g = await detectionGallery(images, (blob) => ctx.store.getBlob(blob), { perGroup: p.gallery.per_group, scoreThr: p.gallery.score_thr, displayWidth: p.gallery.display_size, iouThr: p.iou_thr, ...(ignore ? { ignore } : {}) });
      Object.assign(files, g.files);
      sections.push({ title: 'Gallery: predicted and true boxes', html: g.html });
      gallery = { threshold: g.threshold, note: g.note };
    } else notes.push('no dataset input with images: the report has no gallery of drawn boxes (from: { predictions: ..., data: <dataset stage> })');
  }
  const { curves, ...rest } = report;
  return { report, metrics, files, sections, json: { ...rest, curves: thinCurves(curves), ...(gallery ? { gallery } : {}) } };
}

/** Curves for report.json with at most ~500 points each. */
function thinCurves(curves: DetectionReport['curves']): DetectionReport['curves'] {
  const thin = <T>(xs: T[]) => (xs.length <= 500 ? xs : xs.filter((_, i) => i % Math.ceil(xs.length / 500) === 0 || i === xs.length - 1));
  return {
    pr: Object.fromEntries(Object.entries(curves.pr).map(([k, c]) => [k, { recall: thin(c.recall), precision: thin(c.precision) }])),
    froc: { fpPerImage: thin(curves.froc.fpPerImage), sensitivity: thin(curves.froc.sensitivity), thresholds: thin(curves.froc.thresholds) },
  };
}

/** Training histories from model inputs (`meta.history`) and predictions (`meta.histories`). */
function histories(inputs: readonly StageInput[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const input of inputs) {
    if (input.artifact.kind === 'model' && input.artifact.meta.history) out[input.instance] = input.artifact.meta.history;
    const h = input.artifact.meta.histories;
    if (input.artifact.kind === 'predictions' && h && typeof h === 'object') Object.assign(out, h);
  }
  return out;
}
