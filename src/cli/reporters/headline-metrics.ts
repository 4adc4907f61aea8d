import type { Store } from '../../store/store.ts';
import { loadArtifact } from '../../engine/artifact.ts';
import type { RunResult } from '../../engine/runner-api.ts';

const MAX_PER_REPORT = 8;

/** `evaluate: auc_macro 0.934 [0.901, 0.962], f1_macro 0.81 ...`: the aggregate metrics of each report. */
export async function headlineMetrics(store: Store, result: RunResult): Promise<string[]> {
  const lines: string[] = [];
  for (const instance of result.instances) {
    if (!instance.artifact) continue;
    const artifact = await loadArtifact(store, instance.artifact);
    const metrics = artifact?.kind === 'report' ? (artifact.meta.metrics as Record<string, number> | undefined) : undefined;
    if (!metrics) continue;
    const names = Object.keys(metrics).filter((k) => !k.includes('/') && !/_ci_(low|high)$/.test(k) && Number.isFinite(metrics[k]));
    const shown = names.slice(0, MAX_PER_REPORT).map((k) => {
      const low = metrics[`${k}_ci_low`];
      const high = metrics[`${k}_ci_high`];
      return `${k} ${fmt(metrics[k])}${low !== undefined && high !== undefined ? ` [${fmt(low)}, ${fmt(high)}]` : ''}`;
    });
    if (shown.length) lines.push(`${instance.id}: ${shown.join(', ')}${names.length > shown.length ? `, … (${names.length - shown.length} more: pipeline export)` : ''}`);
  }
  return lines;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}
