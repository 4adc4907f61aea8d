import { escapeXml } from './escape.ts';

export interface Series {
  name: string;
  x: readonly number[];
  y: readonly number[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** Axis ranges; default: the data's extent (0..1 for ROC/PR/calibration). */
  xRange?: [number, number];
  yRange?: [number, number];
  /** Draw the y = x reference line (ROC chance, perfect calibration). */
  diagonal?: boolean;
  /** Draw markers at the points (reliability diagrams). */
  markers?: boolean;
  /** Tick labels of the x axis (e.g. 2^v for a log2 axis); default: the value. */
  xTickFormat?: (value: number) => string;
  /** Intervals between x ticks (default 5). */
  xTickCount?: number;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const W = 560;
const H = 420;
const M = { left: 60, right: 170, top: 36, bottom: 48 };

function extent(values: number[], fallback: [number, number]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return fallback;
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  if (lo === hi) return niceRange(lo - Math.max(Math.abs(lo) * 0.1, 1e-3), hi + Math.max(Math.abs(hi) * 0.1, 1e-3));
  return niceRange(lo, hi);
}

/** The data range widened to the nearest round ticks, so that the axis starts and ends on a label. */
export function niceRange(lo: number, hi: number): [number, number] {
  const step = niceStep(lo, hi);
  return [Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step].map((v) => Number(v.toPrecision(12))) as [number, number];
}

function niceStep(lo: number, hi: number, count = 5): number {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw * (1 - 1e-9))!;
}

/** About 5 round tick values (1, 2, 2.5 or 5 times a power of ten) inside [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi - lo > 0) || !Number.isFinite(hi - lo)) return [lo];
  const step = niceStep(lo, hi, count);
  const out: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function ticks([lo, hi]: [number, number], count?: number): number[] {
  return niceTicks(lo, hi, count);
}

/** A self-contained SVG line chart (no external fonts, scripts or styles). */
export function lineChart(opts: LineChartOptions): string {
  const xr = opts.xRange ?? extent(opts.series.flatMap((s) => [...s.x]), [0, 1]);
  const yr = opts.yRange ?? extent(opts.series.flatMap((s) => [...s.y]), [0, 1]);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const px = (x: number) => M.left + ((x - xr[0]) / (xr[1] - xr[0])) * pw;
  const py = (y: number) => M.top + ph - ((y - yr[0]) / (yr[1] - yr[0])) * ph;
  const parts: string[] = [];
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (const t of ticks(xr, opts.xTickCount)) parts.push(`<text x="${px(t).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle">${escapeXml((opts.xTickFormat ?? formatTick)(t))}</text>`);
  for (const t of ticks(yr)) parts.push(`<text x="${M.left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${formatTick(t)}</text>`);
  if (opts.diagonal) parts.push(`<line x1="${px(xr[0])}" y1="${py(yr[0])}" x2="${px(xr[1])}" y2="${py(yr[1])}" stroke="#bbb" stroke-dasharray="4 4"/>`);
  opts.series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const points = s.x.flatMap((x, k) => (Number.isFinite(x) && Number.isFinite(s.y[k]) ? [`${px(x).toFixed(2)},${py(s.y[k]).toFixed(2)}`] : []));
    if (points.length) parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.8" points="${points.join(' ')}"/>`);
    if (opts.markers) for (const p of points) parts.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${colour}"/>`);
    const ly = M.top + 6 + i * 16;
    parts.push(`<line x1="${W - M.right + 10}" y1="${ly}" x2="${W - M.right + 28}" y2="${ly}" stroke="${colour}" stroke-width="3"/>`);
    parts.push(`<text x="${W - M.right + 32}" y="${ly + 4}">${escapeXml(truncate(s.name, 24))}</text>`);
  });
  parts.push(`<text x="${M.left + pw / 2}" y="${H - 10}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-weight="bold">${escapeXml(opts.title)}</text>`);
  return svgDocument(W, H, parts);
}

export interface MatrixChart {
  title: string;
  rowLabels: readonly string[];
  colLabels: readonly string[];
  values: readonly (readonly number[])[];
  rowTitle?: string;
  colTitle?: string;
}

/** A confusion-matrix style heat map with counts in the cells; several matrices are laid out in a grid. */
export function matrixCharts(charts: readonly MatrixChart[], columns = 4): string {
  const cell = 36;
  const label = 110;
  const sizes = charts.map((c) => ({ w: label + cell * c.colLabels.length + 20, h: 40 + label * 0.4 + cell * c.rowLabels.length + 20 }));
  const bw = Math.max(...sizes.map((s) => s.w));
  const bh = Math.max(...sizes.map((s) => s.h));
  const cols = Math.min(columns, charts.length);
  const parts: string[] = [];
  charts.forEach((c, k) => {
    const ox = (k % cols) * bw;
    const oy = Math.floor(k / cols) * bh;
    const max = Math.max(1, ...c.values.flat());
    const top = oy + 44;
    parts.push(`<text x="${ox + label}" y="${oy + 16}" font-weight="bold">${escapeXml(truncate(c.title, 40))}</text>`);
    parts.push(`<text x="${ox + label}" y="${oy + 32}" fill="#555">${escapeXml(c.colTitle ?? 'predicted')} →</text>`);
    c.colLabels.forEach((l, j) => parts.push(`<text x="${ox + label + j * cell + cell / 2}" y="${top - 2}" text-anchor="middle" font-size="9">${escapeXml(truncate(l, 6))}</text>`));
    c.values.forEach((row, i) => {
      parts.push(`<text x="${ox + label - 4}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${escapeXml(truncate(c.rowLabels[i], 16))}</text>`);
      row.forEach((v, j) => {
        const shade = Math.round(255 - (v / max) * 200);
        parts.push(`<rect x="${ox + label + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="#fff"/>`);
        parts.push(`<text x="${ox + label + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle" fill="${v / max > 0.6 ? '#fff' : '#000'}">${v}</text>`);
      });
    });
  });
  return svgDocument(cols * bw, Math.ceil(charts.length / cols) * bh, parts);
}

function svgDocument(width: number, height: number, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`;
}

/** A tick label: round numbers stay short (0.2, 1, 250), tiny and huge ones in exponent form (1e-4). */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs < 1e-3 || abs >= 1e6) return Number(v.toPrecision(3)).toExponential().replace('e+', 'e');
  return String(Number(v.toPrecision(6)));
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
