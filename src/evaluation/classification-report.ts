import { argmax, column } from '../ops/metrics/averaging.ts';
import { bootstrapSamples } from '../ops/metrics/bootstrap.ts';
import { calibrationCurve } from '../ops/metrics/calibration.ts';
import { classificationMetrics, hasBothOutcomes, subset, type ClassificationData } from '../ops/metrics/classification.ts';
import { applyThreshold, binaryCounts, confusionMatrix } from '../ops/metrics/confusion.ts';
import { precisionRecallCurve } from '../ops/metrics/precision-recall.ts';
import { rocCurve } from '../ops/metrics/roc.ts';
import { percentile } from '../ops/metrics/threshold.ts';
import { lineChart, matrixCharts, type Series } from '../ops/report/svg.ts';
import type { MetricGroup } from '../ops/metrics/groups.ts';

export interface BootstrapOptions {
  n: number;
  seed: number;
  level: number;
  /** Row groups for resampling (patient per row); undefined = image-level. */
  groups?: readonly string[];
}

export interface ClassificationReport {
  metrics: Record<string, number>;
  ci: Record<string, { low: number; high: number }>;
  bootstrap?: { n: number; seed: number; level: number; by: 'patient' | 'image'; usedPerMetric: Record<string, number> };
  curves: {
    roc: Record<string, { fpr: number[]; tpr: number[]; thresholds: number[] }>;
    pr: Record<string, { precision: number[]; recall: number[] }>;
    calibration: Record<string, { probTrue: number[]; probPred: number[]; counts: number[] }>;
  };
  confusion: { labels: string[]; matrix: number[][] } | Array<{ class: string; matrix: number[][] }>;
  plots: Record<string, string>;
}

/**
 * Metrics, bootstrap CIs (percentile method over resampled rows or patients; thresholds stay fixed),
 * curves and plots for one set of classification predictions.
 */
export function classificationReport(data: ClassificationData, groups: readonly MetricGroup[], thresholds: readonly number[], bins: number, bootstrap: BootstrapOptions | undefined, positive?: number): ClassificationReport {
  const options = { groups, thresholds, calibrationBins: bins, positive };
  const metrics = classificationMetrics(data, options);
  const ranked = data.classes.flatMap((_, c) => (hasBothOutcomes(column(data.truth, c)) ? [c] : []));
  const report: ClassificationReport = { metrics, ci: {}, curves: { roc: {}, pr: {}, calibration: {} }, confusion: [], plots: {} };

  if (bootstrap && bootstrap.n > 0) {
    const samples = bootstrapSamples(data.truth.length, bootstrap.n, bootstrap.seed, bootstrap.groups);
    const values: Record<string, number[]> = Object.fromEntries(Object.keys(metrics).map((k) => [k, []]));
    for (const sample of samples) {
      const m = classificationMetrics(subset(data, sample), { ...options, rankedClasses: ranked });
      for (const k of Object.keys(values)) if (!Number.isNaN(m[k])) values[k].push(m[k]);
    }
    const lowQ = ((1 - bootstrap.level) / 2) * 100;
    const highQ = ((1 + bootstrap.level) / 2) * 100;
    for (const [k, v] of Object.entries(values)) {
      report.ci[k] = v.length ? { low: percentile(v, lowQ), high: percentile(v, highQ) } : { low: NaN, high: NaN };
    }
    report.bootstrap = {
      n: bootstrap.n, seed: bootstrap.seed, level: bootstrap.level, by: bootstrap.groups ? 'patient' : 'image',
      usedPerMetric: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.length])),
    };
  }

  const want = new Set(groups);
  data.classes.forEach((cls, c) => {
    const y = column(data.truth, c);
    const s = column(data.scores, c);
    if (want.has('auc') && hasBothOutcomes(y)) report.curves.roc[cls] = rocCurve(y, s);
    if (want.has('pr_auc') && y.some((v) => v === 1)) {
      const { precision, recall } = precisionRecallCurve(y, s);
      report.curves.pr[cls] = { precision, recall };
    }
    if (want.has('calibration')) report.curves.calibration[cls] = calibrationCurve(y, s, bins);
  });
  if (data.task === 'multiclass') {
    report.confusion = { labels: [...data.classes], matrix: confusionMatrix(data.truth.map((r) => argmax(r as number[])), data.scores.map((r) => argmax(r as number[])), data.classes.length) };
  } else {
    report.confusion = data.classes.map((cls, c) => {
      const k = binaryCounts(column(data.truth, c), applyThreshold(column(data.scores, c), thresholds[c]));
      return { class: cls, matrix: [[k.tn, k.fp], [k.fn, k.tp]] };
    });
  }
  report.plots = classificationPlots(report, want);
  return report;
}

function classificationPlots(report: ClassificationReport, want: Set<MetricGroup>): Record<string, string> {
  const plots: Record<string, string> = {};
  const m = report.metrics;
  const series = <T>(curves: Record<string, T>, pick: (c: T) => [number[], number[]], metric: string): Series[] =>
    Object.entries(curves).map(([cls, c]) => {
      const [x, y] = pick(c);
      return { name: `${cls} (${(m[`${metric}/${cls}`] ?? NaN).toFixed(3)})`, x, y };
    });
  const unit: [number, number] = [0, 1];
  if (want.has('auc') && Object.keys(report.curves.roc).length) {
    plots['plots/roc.svg'] = lineChart({ title: 'ROC', xLabel: '1 − specificity (FPR)', yLabel: 'sensitivity (TPR)', series: series(report.curves.roc, (c) => [c.fpr, c.tpr], 'auc'), xRange: unit, yRange: unit, diagonal: true });
  }
  if (want.has('pr_auc') && Object.keys(report.curves.pr).length) {
    plots['plots/pr.svg'] = lineChart({ title: 'Precision-recall', xLabel: 'recall', yLabel: 'precision', series: series(report.curves.pr, (c) => [c.recall, c.precision], 'ap'), xRange: unit, yRange: unit });
  }
  if (want.has('calibration')) {
    plots['plots/calibration.svg'] = lineChart({ title: 'Reliability (calibration)', xLabel: 'mean predicted probability', yLabel: 'fraction of positives', series: series(report.curves.calibration, (c) => [c.probPred, c.probTrue], 'ece'), xRange: unit, yRange: unit, diagonal: true, markers: true });
  }
  if (want.has('confusion')) {
    const c = report.confusion;
    plots['plots/confusion.svg'] = Array.isArray(c)
      ? matrixCharts(c.map((x) => ({ title: x.class, rowLabels: ['neg', 'pos'], colLabels: ['neg', 'pos'], values: x.matrix })))
      : matrixCharts([{ title: 'Confusion matrix (rows: truth)', rowLabels: c.labels, colLabels: c.labels, values: c.matrix }], 1);
  }
  return plots;
}
