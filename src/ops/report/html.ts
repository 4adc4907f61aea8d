import { escapeXml, formatEstimate, formatNumber } from './escape.ts';

export interface HtmlReport {
  title: string;
  /** Key facts shown under the title (e.g. split, rows, task). */
  facts: Record<string, string | number>;
  /** Metric rows: name, value, optional CI. */
  metrics: ReadonlyArray<{ name: string; value: number; low?: number; high?: number }>;
  /** Inline SVG documents, shown in order with their captions. */
  plots: ReadonlyArray<{ caption: string; svg: string }>;
  notes?: readonly string[];
  /** Extra sections after the plots; `html` must already be safe (built with escapeXml). */
  sections?: ReadonlyArray<{ title: string; html: string }>;
}

/** A one-page, self-contained report: no scripts, no external resources; every text escaped. */
export function renderHtmlReport(report: HtmlReport): string {
  const facts = Object.entries(report.facts)
    .map(([k, v]) => `<li><b>${escapeXml(k)}</b>: ${escapeXml(String(v))}</li>`)
    .join('');
  const rows = report.metrics
    .map((m) => {
      if (m.low === undefined || m.high === undefined) return `<tr><td>${escapeXml(m.name)}</td><td>${formatNumber(m.value)}</td><td></td></tr>`;
      const f = formatEstimate(m.value, m.low, m.high);
      return `<tr><td>${escapeXml(m.name)}</td><td>${f.value}</td><td>${f.low} – ${f.high}</td></tr>`;
    })
    .join('\n');
  const plots = report.plots.map((p) => `<figure>${stripXmlDeclaration(p.svg)}<figcaption>${escapeXml(p.caption)}</figcaption></figure>`).join('\n');
  const notes = (report.notes ?? []).map((n) => `<li>${escapeXml(n)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(report.title)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:8px;vertical-align:top}figcaption{text-align:center;color:#555}</style>
</head><body>
<h1>${escapeXml(report.title)}</h1>
<ul>${facts}</ul>
${notes ? `<h2>Notes</h2><ul>${notes}</ul>` : ''}
<h2>Metrics</h2>
<table><thead><tr><th>metric</th><th>value</th><th>CI</th></tr></thead><tbody>
${rows}
</tbody></table>
<h2>Plots</h2>
${plots}
${(report.sections ?? []).map((sec) => `<h2>${escapeXml(sec.title)}</h2>\n${sec.html}`).join('\n')}
</body></html>
`;
}

function stripXmlDeclaration(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, '');
}
