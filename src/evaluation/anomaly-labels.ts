/** The class name of an anomaly detector's score in its model's and its predictions' `classes`. */
export const ABNORMAL = 'abnormal';

export type AnomalyKind = 'normal' | 'abnormal' | 'unlabelled';

/** Normal = labelled with the normal label alone; abnormal = any other label; no labels: unknown. */
export function anomalyKind(labels: readonly string[] | undefined, normal: string): AnomalyKind {
  if (!labels || labels.length === 0) return 'unlabelled';
  return labels.length === 1 && labels[0] === normal ? 'normal' : 'abnormal';
}

/** The truth labels of an anomaly detector's prediction row: [abnormal], [normal] or none (so evaluate scores the binary task). */
export function anomalyTruth(labels: readonly string[] | undefined, normal: string): string[] {
  const kind = anomalyKind(labels, normal);
  return kind === 'abnormal' ? [ABNORMAL] : kind === 'normal' ? [normal] : [];
}

/** `meta.anomaly.normal` of an anomaly detector's model artifact, else undefined (any other model). */
export function normalLabelOf(meta: Record<string, unknown>): string | undefined {
  const anomaly = meta.anomaly as { normal?: unknown } | undefined;
  return typeof anomaly?.normal === 'string' ? anomaly.normal : undefined;
}
