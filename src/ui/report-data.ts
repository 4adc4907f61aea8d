/**
 * Reads ROC curves and confusion matrices out of an evaluate report's `report.json`: evaluate's own
 * layout first; for reports written by other tools the reader is tolerant: any object with numeric `fpr` and `tpr` arrays is a ROC curve (named by its
 * key path, e.g. `roc.Cardiomegaly`), any object with a square numeric `matrix` is a confusion matrix
 * (with `labels` or `classes` for its axes).
 */
export interface RocCurve {
  name: string;
  fpr: number[];
  tpr: number[];
  auc?: number;
}

export interface ConfusionMatrix {
  name: string;
  labels: string[];
  matrix: number[][];
}

/**
 * evaluate's own layout (report.json of the `evaluate` stage): `curves.roc.<class> = {fpr, tpr,
 * thresholds}` with the AUC in `metrics["auc/<class>"]`, and `confusion` either a list of per-class
 * `{class, matrix: [[TN, FP], [FN, TP]]}` (binary, multi-label) or `{labels, matrix}` (multi-class).
 */
function evaluateLayout(json: unknown): { roc: RocCurve[]; confusion: ConfusionMatrix[] } | undefined {
  if (!json || typeof json !== 'object') return undefined;
  const r = json as { curves?: { roc?: Record<string, unknown> }; metrics?: Record<string, unknown>; confusion?: unknown };
  if (!r.curves || typeof r.curves !== 'object' || !r.curves.roc || typeof r.curves.roc !== 'object') return undefined;
  const roc: RocCurve[] = [];
  for (const [cls, c] of Object.entries(r.curves.roc)) {
    const curve = c as { fpr?: unknown; tpr?: unknown };
    if (!isNumbers(curve.fpr) || !isNumbers(curve.tpr) || curve.fpr.length !== curve.tpr.length) continue;
    const auc = r.metrics?.[`auc/${cls}`];
    roc.push({ name: cls, fpr: curve.fpr, tpr: curve.tpr, ...(typeof auc === 'number' ? { auc } : {}) });
  }
  const confusion: ConfusionMatrix[] = [];
  if (Array.isArray(r.confusion)) {
    for (const c of r.confusion as Array<{ class?: unknown; matrix?: unknown }>) {
      if (isMatrix(c?.matrix) && c.matrix.length === 2) confusion.push({ name: String(c.class ?? ''), labels: ['negative', 'positive'], matrix: c.matrix });
    }
  } else if (r.confusion && typeof r.confusion === 'object') {
    const c = r.confusion as { labels?: unknown; matrix?: unknown };
    if (isMatrix(c.matrix) && Array.isArray(c.labels) && c.labels.length === c.matrix.length) confusion.push({ name: 'all classes', labels: c.labels.map(String), matrix: c.matrix });
  }
  return { roc, confusion };
}

export function extractReportData(json: unknown): { roc: RocCurve[]; confusion: ConfusionMatrix[] } {
  const own = evaluateLayout(json);
  if (own) return own;
  const roc: RocCurve[] = [];
  const confusion: ConfusionMatrix[] = [];
  const walk = (value: unknown, path: string[], depth: number) => {
    if (depth > 6 || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.slice(0, 200).forEach((v, i) => walk(v, [...path, String((v as any)?.name ?? (v as any)?.class ?? i)], depth + 1));
      return;
    }
    const obj = value as Record<string, unknown>;
    if (isNumbers(obj.fpr) && isNumbers(obj.tpr) && obj.fpr.length === obj.tpr.length) {
      roc.push({ name: nameOf(path, 'roc'), fpr: obj.fpr, tpr: obj.tpr, ...(typeof obj.auc === 'number' ? { auc: obj.auc } : {}) });
      return;
    }
    if (isMatrix(obj.matrix)) {
      const n = obj.matrix.length;
      const labels = (Array.isArray(obj.labels) ? obj.labels : Array.isArray(obj.classes) ? obj.classes : []).map(String);
      confusion.push({ name: nameOf(path, 'confusion'), labels: labels.length === n ? labels : Array.from({ length: n }, (_, i) => String(i)), matrix: obj.matrix });
      return;
    }
    for (const [k, v] of Object.entries(obj)) walk(v, [...path, k], depth + 1);
  };
  walk(json, [], 0);
  return { roc, confusion };
}

function nameOf(path: string[], fallback: string): string {
  const trimmed = path.filter((p, i) => !(i === 0 && /^(roc|curves|confusion|confusion_matrix|confusion_matrices|per_class|plots)$/i.test(p)));
  return trimmed.join('.') || fallback;
}

function isNumbers(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

function isMatrix(v: unknown): v is number[][] {
  return Array.isArray(v) && v.length > 0 && v.length <= 100 && v.every((row) => isNumbers(row) && row.length === v.length);
}
