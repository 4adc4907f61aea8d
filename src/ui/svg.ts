import { escapeHtml } from './html.ts';

export interface Series {
  label: string;
  points: ReadonlyArray<readonly [number, number]>;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Fixed axis ranges (ROC: [0, 1]); default: the data's range. */
  xRange?: [number, number];
  yRange?: [number, number];
  /** Draw the y = x chance line (ROC). */
  diagonal?: boolean;
  /** Step-like lines for ROC curves. */
  markers?: boolean;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function seriesColor(i: number): string {
  return PALETTE[i % PALETTE.length];
}

/** A self-contained SVG line chart (axes, ticks, legend); all labels are escaped. */
export function lineChart(series: readonly Series[], o: ChartOptions): string {
  const width = o.width ?? 460;
  const height = o.height ?? 300;
  const m = { left: 52, right: 12, top: 28, bottom: 44 + 16 * Math.ceil(series.length / 2) };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const [x0, x1] = o.xRange ?? padRange(Math.min(...xs), Math.max(...xs));
  const [y0, y1] = o.yRange ?? padRange(Math.min(...ys), Math.max(...ys));
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0 || 1)) * plotW;
  const sy = (y: number) => m.top + plotH - ((y - y0) / (y1 - y0 || 1)) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(o.title)}">`);
  parts.push(`<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escapeHtml(o.title)}</text>`);
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  for (const t of ticks(x0, x1)) parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${m.top + plotH}" y2="${m.top + plotH + 4}" stroke="#999"/><text x="${sx(t)}" y="${m.top + plotH + 15}" font-size="10" text-anchor="middle">${fmt(t)}</text>`);
  for (const t of ticks(y0, y1)) parts.push(`<line x1="${m.left - 4}" x2="${m.left + plotW}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/><text x="${m.left - 6}" y="${sy(t) + 3}" font-size="10" text-anchor="end">${fmt(t)}</text>`);
  parts.push(`<text x="${m.left + plotW / 2}" y="${m.top + plotH + 30}" font-size="11" text-anchor="middle">${escapeHtml(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(12 ${m.top + plotH / 2}) rotate(-90)" font-size="11" text-anchor="middle">${escapeHtml(o.yLabel)}</text>`);
  if (o.diagonal) parts.push(`<line x1="${sx(x0)}" y1="${sy(y0)}" x2="${sx(x1)}" y2="${sy(y1)}" stroke="#bbb" stroke-dasharray="4 3"/>`);
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${sx(p[0]).toFixed(1)} ${sy(p[1]).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${seriesColor(i)}" stroke-width="2" data-series="${escapeHtml(s.label)}"><title>${escapeHtml(s.label)}</title></path>`);
    if (o.markers !== false && s.points.length <= 60) for (const p of s.points) parts.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2.5" fill="${seriesColor(i)}"/>`);
    const lx = m.left + (i % 2) * (plotW / 2);
    const ly = m.top + plotH + 44 + 16 * Math.floor(i / 2);
    parts.push(`<rect x="${lx}" y="${ly - 8}" width="10" height="10" fill="${seriesColor(i)}"/><text x="${lx + 14}" y="${ly + 1}" font-size="11">${escapeHtml(s.label.length > 38 ? s.label.slice(0, 36) + '…' : s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

function padRange(lo: number, hi: number): [number, number] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

/** About 5 round tick values inside [lo, hi]. */
export function ticks(lo: number, hi: number): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toFixed(10)));
  return out;
}

function fmt(n: number): string {
  return Math.abs(n) >= 1000 || (Math.abs(n) < 0.01 && n !== 0) ? n.toExponential(1) : String(Number(n.toFixed(3)));
}
