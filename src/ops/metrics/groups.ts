/** The metric groups evaluate can compute (its `metrics:` param). */
export const METRIC_GROUPS = ['auc', 'pr_auc', 'f1', 'sensitivity', 'specificity', 'accuracy', 'confusion', 'calibration'] as const;
export type MetricGroup = (typeof METRIC_GROUPS)[number];
