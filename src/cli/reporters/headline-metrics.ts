import type { Store } from '../../store/store.ts';
import type { RunResult } from '../../engine/runner-api.ts';
import { isAggregate, reportMetrics } from '../../engine/headline-metric.ts';

const MAX_PER_REPORT = 8;

/** `evaluate: auc_macro 0.934 [0.901, 0.962], f1_macro 0.81 ...`: the aggregate metrics of each report. */
export async function headlineMetrics(store: Store, result: RunResult): Promise<string[]> {
  const lines: string[] = [];
  for (const { instance, metrics } of await reportMetrics(store, result)) {
    const names = Object.keys(metrics).filter((k) => isAggregate(metrics, k));
    const shown = names.slice(0, MAX_PER_REPORT).map((k) => {
      const low = metrics[`${k}_ci_low`];
      const high = metrics[`${k}_ci_high`];
      return `${k} ${fmt(metrics[k])}${low !== undefined && high !== undefined ? ` [${fmt(low)}, ${fmt(high)}]` : ''}`;
    });
    if (shown.length) lines.push(`${instance}: ${shown.join(', ')}${names.length > shown.length ? `, … (${names.length - shown.length} more: pipeline export)` : ''}`);
  }
  return lines;
}

export function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}
