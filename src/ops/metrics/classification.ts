import { argmax, mean } from './averaging.ts';
import { brierScore, expectedCalibrationError } from './calibration.ts';
import { accuracy, applyThreshold, binaryCounts, confusionMatrix, countsFromMatrix, f1, sensitivity, specificity, sumCounts, type BinaryCounts } from './confusion.ts';
import { UndefinedMetricError } from './errors.ts';
import { averagePrecision, prAuc } from './precision-recall.ts';
import { positiveClassIndex } from './positive-class.ts';
import { rocAuc } from './roc.ts';
import type { MetricGroup } from './groups.ts';

export type Task = 'binary' | 'multiclass' | 'multilabel';
export interface ClassificationData {
  task: Task;
  classes: readonly string[];
  /** n×C indicator matrix (multi-class: one-hot). */
  truth: readonly (readonly number[])[];
  /** n×C scores (probabilities for calibration). */
  scores: readonly (readonly number[])[];
}

export interface ClassificationOptions {
  groups: readonly MetricGroup[];
  /** Per-class decision thresholds (binary, multilabel); multi-class predicts the argmax. */
  thresholds: readonly number[];
  calibrationBins: number;
  /**
   * Classes averaged in `*_macro` ranking metrics. Default: those with both outcomes present. Bootstrap
   * replicates pass the full data's set, so a replicate missing one of them is undefined (skipped).
   */
  rankedClasses?: readonly number[];
  /** The class whose values the plain names (`auc`, `f1`, ...) report; default: positiveClassIndex's rule. */
  positive?: number;
}

/** Rows of the data picked by index (bootstrap replicates). */
export function subset(data: ClassificationData, indices: readonly number[]): ClassificationData {
  return { ...data, truth: indices.map((i) => data.truth[i]), scores: indices.map((i) => data.scores[i]) };
}

function orNaN(fn: () => number): number {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UndefinedMetricError) return NaN;
    throw err;
  }
}

export function hasBothOutcomes(column: readonly number[]): boolean {
  const positives = column.reduce((a, b) => a + b, 0);
  return positives > 0 && positives < column.length;
}

/**
 * Headline metrics keyed like `auc`, `auc/<class>`, `auc_macro`, `f1_macro`, … (see docs/evaluation.md).
 * Each value equals the scikit-learn function named there on the same predictions. Undefined values
 * (e.g. AUC of a class with no positives) are NaN.
 */
export function classificationMetrics(data: ClassificationData, options: ClassificationOptions): Record<string, number> {
  const { task, classes, truth, scores } = data;
  const C = classes.length;
  const want = new Set(options.groups);
  const out: Record<string, number> = {};
  const cols = classes.map((_, c) => ({ y: truth.map((r) => r[c]), s: scores.map((r) => r[c]) }));
  const ranked = options.rankedClasses ?? cols.flatMap((col, c) => (hasBothOutcomes(col.y) ? [c] : []));
  const single = task === 'binary' && C === 1;
  // a binary model's plain names (`auc`, `f1`, ...) are its positive class's: also a 2-way softmax's
  const positive = options.positive ?? positiveClassIndex(classes, task);

  const ranking = (name: string, metric: (y: number[], s: number[]) => number) => {
    const per = cols.map((col) => orNaN(() => metric(col.y, col.s)));
    classes.forEach((cls, c) => (out[`${name}/${cls}`] = per[c]));
    if (positive !== undefined) out[name] = per[positive];
    if (!single) {
      out[`${name}_macro`] = ranked.length && ranked.every((c) => !Number.isNaN(per[c])) ? mean(ranked.map((c) => per[c])) : NaN;
      out[`${name}_micro`] = orNaN(() => metric(cols.flatMap((c) => c.y), cols.flatMap((c) => c.s)));
    }
  };
  if (want.has('auc')) ranking('auc', rocAuc);
  if (want.has('pr_auc')) {
    ranking('ap', averagePrecision);
    ranking('pr_auc', prAuc);
  }

  const thresholded = ['f1', 'sensitivity', 'specificity', 'accuracy', 'confusion'].some((g) => want.has(g as MetricGroup));
  if (thresholded) {
    let counts: BinaryCounts[];
    if (task === 'multiclass') {
      const matrix = confusionMatrix(truth.map((r) => argmax(r as number[])), scores.map((r) => argmax(r as number[])), C);
      counts = classes.map((_, c) => countsFromMatrix(matrix, c));
      if (want.has('accuracy')) out.accuracy = matrix.reduce((s, row, i) => s + row[i], 0) / truth.length;
    } else {
      const predicted = cols.map((col, c) => applyThreshold(col.s, options.thresholds[c]));
      counts = cols.map((col, c) => binaryCounts(col.y, predicted[c]));
      if (want.has('accuracy')) {
        // sklearn accuracy_score: for multi-label, the exact-match (subset) accuracy.
        out.accuracy = truth.filter((row, i) => row.every((v, c) => v === predicted[c][i])).length / truth.length;
      }
    }
    const perClass = (name: string, fn: (c: BinaryCounts) => number, micro: boolean) => {
      const values = counts.map(fn);
      classes.forEach((cls, c) => (out[`${name}/${cls}`] = values[c]));
      if (positive !== undefined) out[name] = values[positive];
      if (!single) {
        out[`${name}_macro`] = mean(values);
        if (micro) out[`${name}_micro`] = fn(sumCounts(counts));
      }
    };
    if (want.has('f1')) perClass('f1', f1, true);
    if (want.has('sensitivity')) perClass('sensitivity', sensitivity, task === 'multilabel');
    if (want.has('specificity')) perClass('specificity', specificity, false);
    if (want.has('accuracy') && task !== 'multiclass' && !single) {
      classes.forEach((cls, c) => (out[`accuracy/${cls}`] = accuracy(counts[c])));
      // The mean per-class accuracy: MedMNIST's ACC for multi-label sets (at threshold 0.5).
      out.accuracy_macro = mean(counts.map(accuracy));
    }
  }

  if (want.has('calibration')) {
    const ece = cols.map((col) => expectedCalibrationError(col.y, col.s, options.calibrationBins));
    const brier = cols.map((col) => brierScore(col.y, col.s));
    classes.forEach((cls, c) => {
      out[`ece/${cls}`] = ece[c];
      out[`brier/${cls}`] = brier[c];
    });
    if (positive !== undefined) Object.assign(out, { ece: ece[positive], brier: brier[positive] });
    if (!single) Object.assign(out, { ece_macro: mean(ece), brier_macro: mean(brier) });
  }
  return out;
}
