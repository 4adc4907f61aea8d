export interface BinaryCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** TP/FP/TN/FN of 0/1 predictions. */
export function binaryCounts(truth: ArrayLike<number>, predicted: ArrayLike<number>): BinaryCounts {
  if (truth.length !== predicted.length) throw new Error(`confusion: ${truth.length} truth values but ${predicted.length} predictions`);
  const counts = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < truth.length; i++) {
    if (predicted[i]) truth[i] ? counts.tp++ : counts.fp++;
    else truth[i] ? counts.fn++ : counts.tn++;
  }
  return counts;
}

/** Scores at or above the threshold are positive (the ROC curve's convention). */
export function applyThreshold(scores: ArrayLike<number>, threshold: number): number[] {
  return Array.from(scores, (s) => (s >= threshold ? 1 : 0));
}

const ratio = (num: number, den: number) => (den === 0 ? 0 : num / den);

/** Recall of the positive class (`recall_score`; 0 when there are no positives, sklearn's zero_division). */
export const sensitivity = (c: BinaryCounts) => ratio(c.tp, c.tp + c.fn);
/** Recall of the negative class (`recall_score(pos_label=0)`). */
export const specificity = (c: BinaryCounts) => ratio(c.tn, c.tn + c.fp);
export const precision = (c: BinaryCounts) => ratio(c.tp, c.tp + c.fp);
/** `f1_score`: 2TP / (2TP + FP + FN), 0 when undefined. */
export const f1 = (c: BinaryCounts) => ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);
export const accuracy = (c: BinaryCounts) => ratio(c.tp + c.tn, c.tp + c.tn + c.fp + c.fn);

/** `sklearn.metrics.confusion_matrix(truth, predicted, labels=range(classes))`: rows = truth, columns = prediction. */
export function confusionMatrix(truth: readonly number[], predicted: readonly number[], classes: number): number[][] {
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  truth.forEach((t, i) => {
    const p = predicted[i];
    if (!(t >= 0 && t < classes && p >= 0 && p < classes)) throw new Error(`confusion: class index out of range at #${i} (truth ${t}, predicted ${p}, ${classes} classes)`);
    matrix[t][p]++;
  });
  return matrix;
}

/** One-vs-rest counts of class `c` from a multi-class confusion matrix. */
export function countsFromMatrix(matrix: readonly (readonly number[])[], c: number): BinaryCounts {
  const total = matrix.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
  const tp = matrix[c][c];
  const fn = matrix[c].reduce((a, b) => a + b, 0) - tp;
  const fp = matrix.reduce((s, row) => s + row[c], 0) - tp;
  return { tp, fp, fn, tn: total - tp - fp - fn };
}

/** Per-class counts of multi-label indicator truth and predictions (`multilabel_confusion_matrix`). */
export function multilabelCounts(truth: readonly (readonly number[])[], predicted: readonly (readonly number[])[]): BinaryCounts[] {
  const classes = truth[0]?.length ?? 0;
  return Array.from({ length: classes }, (_, c) => binaryCounts(truth.map((r) => r[c]), predicted.map((r) => r[c])));
}

/** Sum of per-class counts (micro averaging). */
export function sumCounts(all: readonly BinaryCounts[]): BinaryCounts {
  return all.reduce((s, c) => ({ tp: s.tp + c.tp, fp: s.fp + c.fp, tn: s.tn + c.tn, fn: s.fn + c.fn }), { tp: 0, fp: 0, tn: 0, fn: 0 });
}
