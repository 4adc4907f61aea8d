import type { RunResult } from '../../engine/runner-api.ts';
import { formatDuration, table } from './format.ts';
import type { ItemCounts } from '../../engine/events.ts';
import { formatItems } from './format.ts';

/** The end-of-run table: instance, status, duration, items (and the workers that ran it, with a queue). */
export function summaryTable(result: RunResult, items: ReadonlyMap<string, ItemCounts>): string {
  const remote = result.instances.some((i) => i.workers?.length);
  const rows = result.instances.map((i) => [i.id, i.status, formatDuration(i.durationMs), formatItems(items.get(i.id)), ...(remote ? [i.workers?.join(', ') ?? ''] : [])]);
  const counts = new Map<string, number>();
  for (const i of result.instances) counts.set(i.status, (counts.get(i.status) ?? 0) + 1);
  const tally = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  const errors = result.instances.filter((i) => i.error).map((i) => `  ${i.error}`);
  return [table(['stage', 'status', 'time', 'items', ...(remote ? ['worker'] : [])], rows), '', `run ${result.runId}: ${result.status} (${tally})`, ...(errors.length ? ['errors:', ...errors] : [])].join('\n');
}
