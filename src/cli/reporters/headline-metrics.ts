import type { Store } from '../../store/store.ts';
import type { RunResult } from '../../engine/runner-api.ts';
import { isAggregate, reportMetrics } from '../../engine/headline-metric.ts';
import { formatEstimate } from '../../ops/report/escape.ts';

const MAX_PER_REPORT = 8;

/** `evaluate: auc_macro 0.934 [0.901, 0.962], f1_macro 0.81 ...`: the aggregate metrics of each report. */
export async function headlineMetrics(store: Store, result: RunResult): Promise<string[]> {
  const lines: string[] = [];
  for (const { instance, metrics } of await reportMetrics(store, result)) {
    const names = Object.keys(metrics).filter((k) => isAggregate(metrics, k));
    const shown = names.slice(0, MAX_PER_REPORT).map((k) => {
      const low = metrics[`${k}_ci_low`];
      const high = metrics[`${k}_ci_high`];
      return `${k} ${withInterval(metrics[k], low, high)}`;
    });
    if (shown.length) lines.push(`${instance}: ${shown.join(', ')}${names.length > shown.length ? `, … (${names.length - shown.length} more: pipeline export)` : ''}`);
  }
  return lines;
}

/** `0.997 [0.989, 1.000]`: the bounds with the value's 3 decimals (a bound of exactly 1 is not `1`); counts stay whole. */
export function withInterval(value: number, low?: number, high?: number): string {
  const whole = [value, low, high].every((v) => v === undefined || Number.isInteger(v));
  const f = formatEstimate(value, low, high, 3, whole ? 0 : 3);
  return f.low === undefined ? f.value : `${f.value} [${f.low}, ${f.high}]`;
}
