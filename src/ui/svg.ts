import { escapeHtml } from './html.ts';
import { formatTick, niceRange, niceTicks } from '../ops/report/svg.ts';

export interface Series {
  label: string;
  points: ReadonlyArray<readonly [number, number]>;
  /** Series of one group (the folds of one run) share a colour and one legend entry. */
  group?: string;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Fixed axis ranges (ROC: [0, 1]); default: the data's range widened to round ticks. */
  xRange?: [number, number];
  yRange?: [number, number];
  /** Draw the y = x chance line (ROC). */
  diagonal?: boolean;
  /** Draw point markers (default: when a series has at most 60 points). */
  markers?: boolean;
  /** Whole-number x ticks only (epochs). */
  integerX?: boolean;
  /** Log10 y axis when all values are positive and span 20x or more (learning rates). */
  logY?: boolean;
  /** Legend entries shown at most; the rest are summed up as "+ N more" (each line keeps its tooltip). */
  maxLegend?: number;
}

// Tableau 20: distinguishable colours for up to 20 runs; beyond that colours repeat with dashes.
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#aec7e8', '#ffbb78', '#98df8a', '#ff9896', '#c5b0d5', '#c49c94', '#f7b6d2', '#c7c7c7', '#dbdb8d', '#9edae5'];
const DASHES = ['', '6 3', '2 2', '8 3 2 3'];

export function seriesColor(i: number): string {
  return PALETTE[i % PALETTE.length];
}

const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

/** A self-contained SVG line chart (axes with round ticks, legend by group); all labels are escaped. */
export function lineChart(series: readonly Series[], o: ChartOptions): string {
  const groups = [...new Set(series.map((s) => s.group ?? s.label))];
  const maxLegend = o.maxLegend ?? 12;
  const legend = groups.slice(0, maxLegend);
  const width = o.width ?? 460;
  const legendRows = Math.ceil((legend.length + (groups.length > maxLegend ? 1 : 0)) / 2);
  const m = { left: 56, right: 14, top: 28, bottom: 46 + 16 * legendRows };
  const height = (o.height ?? 300) + 16 * Math.max(0, legendRows - 1);
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const xs = series.flatMap((s) => s.points.map((p) => p[0])).filter(Number.isFinite);
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const [x0, x1] = o.xRange ?? roundRange(xs);
  const log = !!o.logY && ys.length > 0 && Math.min(...ys) > 0 && Math.max(...ys) / Math.min(...ys) >= 20;
  const [y0, y1] = o.yRange ?? (log ? [Math.floor(Math.log10(Math.min(...ys))), Math.ceil(Math.log10(Math.max(...ys)))] : roundRange(ys));
  const ty = (y: number) => (log ? Math.log10(y) : y);
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0 || 1)) * plotW;
  const sy = (y: number) => m.top + plotH - ((ty(y) - y0) / (y1 - y0 || 1)) * plotH;
  const xTicks = niceTicks(x0, x1).filter((t) => !o.integerX || Number.isInteger(t));
  const yTicks = log ? Array.from({ length: y1 - y0 + 1 }, (_, i) => 10 ** (y0 + i)) : niceTicks(y0, y1);
  const style = (i: number) => ({ colour: seriesColor(i), dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length] });
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(o.title)}" font-family="system-ui,sans-serif">`);
  parts.push(`<text x="${width / 2}" y="17" text-anchor="middle" font-size="13" font-weight="bold"><title>${escapeHtml(o.title)}</title>${escapeHtml(clip(o.title, 56))}</text>`);
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  for (const t of xTicks) parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${m.top + plotH}" y2="${m.top + plotH + 4}" stroke="#999"/><text x="${sx(t)}" y="${m.top + plotH + 15}" font-size="10" text-anchor="middle">${fmt(t)}</text>`);
  for (const t of yTicks) parts.push(`<line x1="${m.left - 4}" x2="${m.left + plotW}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/><text x="${m.left - 6}" y="${sy(t) + 3}" font-size="10" text-anchor="end">${fmt(t)}</text>`);
  parts.push(`<text x="${m.left + plotW / 2}" y="${m.top + plotH + 30}" font-size="11" text-anchor="middle">${escapeHtml(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(13 ${m.top + plotH / 2}) rotate(-90)" font-size="11" text-anchor="middle">${escapeHtml(clip(o.yLabel, 40))}${log ? ' (log)' : ''}</text>`);
  if (o.diagonal) parts.push(`<line x1="${sx(x0)}" y1="${sy(y0)}" x2="${sx(x1)}" y2="${sy(y1)}" stroke="#bbb" stroke-dasharray="4 3"/>`);
  series.forEach((s) => {
    if (s.points.length === 0) return;
    const { colour, dash } = style(groups.indexOf(s.group ?? s.label));
    const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${sx(p[0]).toFixed(1)} ${sy(p[1]).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="${groups.length > 10 ? 1.4 : 2}"${dash ? ` stroke-dasharray="${dash}"` : ''} data-series="${escapeHtml(s.label)}"><title>${escapeHtml(s.label)}</title></path>`);
    if ((o.markers ?? true) && s.points.length <= 60 && groups.length <= 10) for (const p of s.points) parts.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2.5" fill="${colour}"/>`);
  });
  const legendY = m.top + plotH + 46;
  legend.forEach((g, i) => {
    const { colour, dash } = style(i);
    const lx = m.left + (i % 2) * (plotW / 2);
    const ly = legendY + 16 * Math.floor(i / 2);
    parts.push(`<g class="legend"><line x1="${lx}" x2="${lx + 16}" y1="${ly - 4}" y2="${ly - 4}" stroke="${colour}" stroke-width="3"${dash ? ` stroke-dasharray="${dash}"` : ''}/><text x="${lx + 20}" y="${ly}" font-size="11"><title>${escapeHtml(g)}</title>${escapeHtml(clip(g, Math.floor(plotW / 2 / 6.2) - 4))}</text></g>`);
  });
  if (groups.length > maxLegend) {
    const i = legend.length;
    parts.push(`<text x="${m.left + (i % 2) * (plotW / 2)}" y="${legendY + 16 * Math.floor(i / 2)}" font-size="11" fill="#555">+ ${groups.length - maxLegend} more (hover a line for its run)</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/** The data's range widened to round ticks (a flat series gets a band around its value). */
function roundRange(values: number[]): [number, number] {
  if (!values.length) return [0, 1];
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const pad = lo === 0 ? 0.5 : Math.abs(lo) * 0.1;
  if (lo === hi) return niceRange(lo - pad, hi + pad);
  return niceRange(lo, hi);
}

/** About 5 round tick values inside [lo, hi]. */
export function ticks(lo: number, hi: number): number[] {
  return niceTicks(lo, hi);
}

function fmt(n: number): string {
  return formatTick(n);
}
