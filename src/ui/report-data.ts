/**
 * Reads ROC curves and confusion matrices out of an evaluate report's `report.json`. The reader is
 * tolerant about layout: any object with numeric `fpr` and `tpr` arrays is a ROC curve (named by its
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

export function extractReportData(json: unknown): { roc: RocCurve[]; confusion: ConfusionMatrix[] } {
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
