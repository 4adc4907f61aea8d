import type { DatasetRow } from '../data-model.ts';
import { StageInputError, type Logger } from '../engine/stage.ts';
import { labelSet, strataOf, type SplitItem } from '../ops/splits/groups.ts';
import { groupsInSeveralParts } from '../ops/splits/leakage.ts';
import { exampleDistributionDeviation, labelDistributionDeviation, partStats, type PartStats } from '../ops/splits/measures.ts';

/** Rows as the splitter sees them. Rows lacking a group value form groups of their own (a warning says how many). */
export function splitItems(rows: readonly DatasetRow[], stratify: string, group: string | null, log: Logger): SplitItem[] {
  let ungrouped = 0;
  const items = rows.map((row) => {
    const value = row[stratify];
    if (value !== undefined && value !== null && typeof value !== 'string' && !Array.isArray(value)) {
      throw new StageInputError(`row ${row.id}: column "${stratify}" is ${typeof value}, not a class name or list`, 'stratify: names a column holding labels, e.g. labels');
    }
    const labels = strataOf(value === undefined || value === null ? [] : typeof value === 'string' ? [value] : (value as unknown[]).map(String));
    const g = group === null ? undefined : row[group];
    if (g === undefined || g === null || g === '') ungrouped++;
    return { group: g === undefined || g === null || g === '' ? `\u0000row:${row.id}` : String(g), labels };
  });
  if (group !== null && ungrouped) log.warn(`${ungrouped} of ${rows.length} rows have no "${group}" value: each is split as its own group`);
  return items;
}

/** Fails loudly when a group spans two parts, naming image ids (never the group values, which may be PHI). */
export function assertNoLeak(rows: readonly DatasetRow[], items: readonly SplitItem[], parts: readonly (string | number)[], asUserError: boolean): void {
  const leaks = groupsInSeveralParts(items.map((i) => i.group), parts);
  if (!leaks.length) return;
  const first = leaks[0];
  const ids = rows.filter((_, i) => items[i].group === first.group).slice(0, 5).map((r) => r.id);
  const message = `${leaks.length} patient group(s) span several parts; e.g. images ${ids.join(', ')} are in parts ${first.parts.join(' and ')}`;
  if (asUserError) throw new StageInputError(message, 'a patient must be in one part only: fix the split column, or use the stratified mode');
  throw new Error(`internal error: ${message}`);
}

export interface PartSummary extends PartStats {
  part: string;
}

/** Per-part counts, LD and ED for the artifact meta, and a table for the log. */
export function summariseParts(items: readonly SplitItem[], part: readonly number[], names: readonly string[], ratios: readonly number[]) {
  const labels = labelSet(items);
  const stats = partStats(items, part, names.length, labels);
  const summary = {
    parts: stats.map((s, j) => ({ part: names[j], ...s })) as PartSummary[],
    ld: labelDistributionDeviation(stats, labels),
    ed: exampleDistributionDeviation(stats, ratios),
  };
  return { summary, table: formatTable(summary.parts, labels) };
}

function formatTable(parts: readonly PartSummary[], labels: readonly string[]): string {
  const header = ['part', 'images', 'patients', ...labels];
  const body = parts.map((p) => [p.part, String(p.images), String(p.groups), ...labels.map((l) => String(p.labels[l] ?? 0))]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((r) => r[c].length)));
  return [header, ...body].map((r) => r.map((v, c) => v.padStart(widths[c])).join('  ')).join('\n');
}

/** The class list: the input's `meta.classes`, else the labels seen in the rows. */
export function classesOf(meta: Record<string, unknown>, rows: readonly DatasetRow[]): string[] {
  if (Array.isArray(meta.classes)) return meta.classes as string[];
  return [...new Set(rows.flatMap((r) => r.labels ?? []))].sort();
}
