import type { ItemCounts } from '../../engine/events.ts';

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function formatItems(items: ItemCounts | undefined): string {
  if (!items || items.total === 0) return '';
  const extra = [items.cached ? `${items.cached} cached` : '', items.failed ? `${items.failed} failed` : ''].filter(Boolean).join(', ');
  return `${items.done}/${items.total}${extra ? ` (${extra})` : ''}`;
}

/** A plain text table with padded columns. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Rate and ETA of an item loop from its counts and elapsed time. */
export function rateAndEta(items: ItemCounts, elapsedMs: number): string {
  const processed = items.done - items.cached;
  if (processed <= 0 || elapsedMs < 500) return '';
  const rate = processed / (elapsedMs / 1000);
  const eta = (items.total - items.done) / rate;
  return `${rate >= 10 ? Math.round(rate) : rate.toFixed(1)}/s, ETA ${formatDuration(Math.round(eta * 1000))}`;
}
