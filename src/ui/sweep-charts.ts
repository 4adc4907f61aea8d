import { formatTick, niceRange, niceTicks } from '../ops/report/svg.ts';
import { escapeHtml } from './html.ts';

/** One run as the sweep views see it: its param values, the chosen metric and its CI. */
export interface SweepPoint {
  id: string;
  label: string;
  params: Record<string, string | undefined>;
  value?: number;
  ci?: [number, number];
}

/** A numeric axis (linear, or log10 when all values are positive and span 100x or more) or a categorical one. */
export interface Axis {
  key: string;
  kind: 'linear' | 'log' | 'category';
  /** Position in [0, 1] (0 = bottom) of a raw value; undefined when missing. */
  position(raw: string | number | undefined): number | undefined;
  ticks: Array<{ at: number; label: string }>;
}

export function axisFor(key: string, values: ReadonlyArray<string | number | undefined>): Axis {
  const present = values.filter((v): v is string | number => v !== undefined && v !== '');
  const numbers = present.map(Number);
  const numeric = present.length > 0 && numbers.every(Number.isFinite);
  if (numeric) {
    const lo = Math.min(...numbers);
    const hi = Math.max(...numbers);
    if (lo > 0 && hi / lo >= 100) {
      const [a, b] = [Math.floor(Math.log10(lo)), Math.ceil(Math.log10(hi))];
      const pos = (v: number) => (Math.log10(v) - a) / (b - a || 1);
      const ticks = Array.from({ length: b - a + 1 }, (_, i) => ({ at: (a + i - a) / (b - a || 1), label: formatTick(10 ** (a + i)) }));
      return { key, kind: 'log', position: (v) => (v === undefined || v === '' ? undefined : pos(Number(v))), ticks };
    }
    const [a, b] = lo === hi ? niceRange(lo - Math.abs(lo || 1) * 0.1, hi + Math.abs(hi || 1) * 0.1) : niceRange(lo, hi);
    const pos = (v: number) => (v - a) / (b - a || 1);
    return { key, kind: 'linear', position: (v) => (v === undefined || v === '' ? undefined : pos(Number(v))), ticks: niceTicks(a, b, 4).map((t) => ({ at: pos(t), label: formatTick(t) })) };
  }
  const categories = [...new Set(present.map(String))].sort((x, y) => x.localeCompare(y, undefined, { numeric: true }));
  const pos = (v: string) => (categories.length === 1 ? 0.5 : categories.indexOf(v) / (categories.length - 1));
  return { key, kind: 'category', position: (v) => (v === undefined || v === '' ? undefined : pos(String(v))), ticks: categories.map((c) => ({ at: pos(c), label: c })) };
}

/** Viridis (5 stops, linear in between): dark blue = worst, yellow = best. */
export function viridis(t: number): string {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

/**
 * Parallel coordinates: one vertical axis per param and a last one for the metric; one line per run,
 * coloured by the metric (higher = brighter, or lower with `lowerIsBetter`). Missing values break the line.
 */
export function parallelCoordinates(points: readonly SweepPoint[], params: readonly string[], metric: string, o: { width?: number; lowerIsBetter?: boolean } = {}): string {
  const width = o.width ?? 1180;
  const height = 380;
  const m = { left: 110, right: 60, top: 46, bottom: 30 };
  const axes = [...params.map((p) => axisFor(p, points.map((r) => r.params[p]))), axisFor(metric, points.map((r) => r.value))];
  const x = (i: number) => m.left + (axes.length === 1 ? 0 : (i * (width - m.left - m.right)) / (axes.length - 1));
  const y = (t: number) => m.top + (1 - t) * (height - m.top - m.bottom);
  const values = points.map((p) => p.value).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const [vmin, vmax] = [Math.min(...values), Math.max(...values)];
  const shade = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? undefined : vmax > vmin ? (v - vmin) / (vmax - vmin) : 1);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" class="chart parallel" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(`parallel coordinates of ${params.join(', ')} against ${metric}`)}" font-family="system-ui,sans-serif">`];
  const ordered = [...points].sort((a, b) => (a.value ?? -Infinity) - (b.value ?? -Infinity));
  for (const p of ordered) {
    const t = shade(p.value);
    const colour = t === undefined ? '#bbb' : viridis(o.lowerIsBetter ? 1 - t : t);
    const segs: string[] = [];
    let pen = false;
    axes.forEach((axis, i) => {
      const pos = axis.position(i === axes.length - 1 ? p.value : p.params[axis.key]);
      if (pos === undefined) return void (pen = false);
      segs.push(`${pen ? 'L' : 'M'}${x(i).toFixed(1)} ${y(pos).toFixed(1)}`);
      pen = true;
    });
    parts.push(`<path d="${segs.join(' ')}" fill="none" stroke="${colour}" stroke-width="1.6" stroke-opacity="0.85" data-run="${escapeHtml(p.id)}"><title>${escapeHtml(`${p.label}: ${metric} = ${p.value ?? 'not logged'}`)}</title></path>`);
  }
  axes.forEach((axis, i) => {
    const ax = x(i);
    parts.push(`<line x1="${ax}" x2="${ax}" y1="${y(0)}" y2="${y(1)}" stroke="#333"/>`);
    const anchor = i === 0 ? 'start' : i === axes.length - 1 ? 'end' : 'middle';
    const isMetric = i === axes.length - 1;
    parts.push(`<text x="${ax}" y="18" text-anchor="${anchor}" font-size="12" font-weight="${isMetric ? 'bold' : 'normal'}" data-axis="${escapeHtml(axis.key)}"><title>${escapeHtml(axis.key)}</title>${escapeHtml(clip(axis.key, 24))}</text>`);
    parts.push(`<text x="${ax}" y="32" text-anchor="${anchor}" font-size="10" fill="#777">${axis.kind === 'log' ? 'log scale' : axis.kind === 'category' ? '' : ''}</text>`);
    const shown = axis.ticks.length > 12 ? axis.ticks.filter((_, k) => k % Math.ceil(axis.ticks.length / 12) === 0) : axis.ticks;
    for (const t of shown) parts.push(`<line x1="${ax - 3}" x2="${ax}" y1="${y(t.at)}" y2="${y(t.at)}" stroke="#333"/><text x="${ax - 5}" y="${y(t.at) + 3.5}" text-anchor="end" font-size="10" paint-order="stroke" stroke="#fff" stroke-width="3"><title>${escapeHtml(t.label)}</title>${escapeHtml(clip(t.label, 16))}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Metric against one param: a point per run (with its CI as an error bar), numeric params on a
 * linear or log axis, categorical ones as evenly spaced columns with a small deterministic jitter.
 */
export function metricScatter(points: readonly SweepPoint[], param: string, metric: string): string {
  const width = 380;
  const height = 270;
  const m = { left: 58, right: 14, top: 26, bottom: 48 };
  const withValue = points.filter((p) => p.value !== undefined && p.params[param] !== undefined);
  const xAxis = axisFor(param, withValue.map((p) => p.params[param]));
  const yAxis = axisFor(metric, withValue.flatMap((p) => [p.value, ...(p.ci ?? [])]));
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const inset = xAxis.kind === 'category' ? 0.08 : 0;
  const sx = (t: number) => m.left + (inset + t * (1 - 2 * inset)) * pw;
  const sy = (t: number) => m.top + (1 - t) * ph;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" class="chart scatter" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(`${metric} against ${param}`)}" font-family="system-ui,sans-serif">`];
  parts.push(`<text x="${width / 2}" y="16" text-anchor="middle" font-size="12" font-weight="bold"><title>${escapeHtml(`${metric} vs ${param}`)}</title>${escapeHtml(clip(`${metric} vs ${param}`, 52))}</text>`);
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (const t of yAxis.ticks) parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${sy(t.at)}" y2="${sy(t.at)}" stroke="#eee"/><text x="${m.left - 5}" y="${sy(t.at) + 3.5}" text-anchor="end" font-size="10">${escapeHtml(t.label)}</text>`);
  const xticks = xAxis.ticks.length > 8 ? xAxis.ticks.filter((_, k) => k % Math.ceil(xAxis.ticks.length / 8) === 0) : xAxis.ticks;
  for (const t of xticks) parts.push(`<line x1="${sx(t.at)}" x2="${sx(t.at)}" y1="${m.top + ph}" y2="${m.top + ph + 4}" stroke="#999"/><text x="${sx(t.at)}" y="${m.top + ph + 15}" text-anchor="middle" font-size="10">${escapeHtml(clip(t.label, 10))}</text>`);
  parts.push(`<text x="${m.left + pw / 2}" y="${height - 8}" text-anchor="middle" font-size="11">${escapeHtml(clip(param, 48))}${xAxis.kind === 'log' ? ' (log)' : ''}</text>`);
  withValue.forEach((p, i) => {
    const jitter = xAxis.kind === 'category' ? ((i * 37) % 11) / 11 - 0.5 : 0;
    const cx = sx(xAxis.position(p.params[param])!) + jitter * 10;
    const cy = sy(yAxis.position(p.value)!);
    if (p.ci) parts.push(`<line x1="${cx.toFixed(1)}" x2="${cx.toFixed(1)}" y1="${sy(yAxis.position(p.ci[0])!).toFixed(1)}" y2="${sy(yAxis.position(p.ci[1])!).toFixed(1)}" stroke="#1f77b4" stroke-opacity="0.5"/>`);
    parts.push(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="3.5" fill="#1f77b4" data-run="${escapeHtml(p.id)}"><title>${escapeHtml(`${p.label}: ${param} = ${p.params[param]}, ${metric} = ${p.value}${p.ci ? ` [${p.ci[0]}, ${p.ci[1]}]` : ''}`)}</title></circle>`);
  });
  if (!withValue.length) parts.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#777">no run has both values</text>`);
  parts.push('</svg>');
  return parts.join('');
}
