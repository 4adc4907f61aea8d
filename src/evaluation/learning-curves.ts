import { lineChart, type Series } from '../ops/report/svg.ts';

/**
 * Training histories in either shape trainers write: tfjs `History.history` (`{ loss: [..], val_loss: [..] }`)
 * or a list of per-epoch records (`[{ epoch: 0, loss: .7, val_auc: .6 }, ..]`).
 */
export type History = Record<string, number[]> | Array<Record<string, number>>;

export function historySeries(history: unknown, prefix = ''): Series[] {
  if (Array.isArray(history)) {
    const keys = new Set(history.flatMap((r) => (r && typeof r === 'object' ? Object.keys(r) : [])));
    for (const k of ['epoch', 'seconds']) keys.delete(k);
    return [...keys].map((k) => {
      const points = history.flatMap((r, i) => (typeof r?.[k] === 'number' ? [[typeof r.epoch === 'number' ? r.epoch : i, r[k]]] : []));
      return { name: `${prefix}${k}`, x: points.map((p) => p[0]), y: points.map((p) => p[1]) };
    });
  }
  if (history && typeof history === 'object') {
    return Object.entries(history as Record<string, unknown>).flatMap(([k, v]) =>
      Array.isArray(v) && v.every((x) => typeof x === 'number') ? [{ name: `${prefix}${k}`, x: v.map((_, i) => i), y: v as number[] }] : [],
    );
  }
  return [];
}

/** A learning-rate series (`lr`, `learning_rate`, `val_lr`...): its scale has nothing to do with the scores'. */
export function isLearningRate(name: string): boolean {
  return /(^|[\s_./])(lr|learning_rate)$/i.test(name);
}

/**
 * Loss-like, score-like and learning-rate series each on their own chart (the learning rate on the
 * AUC axis would be a flat line at 0); none when there is no history.
 */
export function learningCurvePlots(histories: Record<string, unknown>): Record<string, string> {
  const series = Object.entries(histories).flatMap(([name, h]) => historySeries(h, Object.keys(histories).length > 1 ? `${name} ` : ''));
  if (!series.length) return {};
  const isLoss = (s: Series) => /loss/i.test(s.name);
  const plots: Record<string, string> = {};
  const lr = series.filter((s) => isLearningRate(s.name));
  const loss = series.filter((s) => isLoss(s) && !isLearningRate(s.name));
  const other = series.filter((s) => !isLoss(s) && !isLearningRate(s.name));
  if (loss.length) plots['plots/learning-loss.svg'] = lineChart({ title: 'Learning curves: loss', xLabel: 'epoch', yLabel: 'loss', series: loss });
  if (other.length) plots['plots/learning-metrics.svg'] = lineChart({ title: 'Learning curves: metrics', xLabel: 'epoch', yLabel: 'value', series: other });
  if (lr.length) plots['plots/learning-rate.svg'] = lineChart({ title: 'Learning rate', xLabel: 'epoch', yLabel: 'learning rate', series: lr });
  return plots;
}
