import { formatNumber } from '../tracking/compare.ts';
import type { TrackedRun } from '../tracking/model.ts';
import type { CompareView, RunsQuery, RunsTable } from './data.ts';
import { html, raw, type SafeHtml } from './html.ts';
import { lineChart } from './svg.ts';

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#234;color:#fff;padding:10px 20px}header a{color:#fff;text-decoration:none;font-weight:bold}
main{padding:12px 20px}
table{border-collapse:collapse;background:#fff;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th a{color:#234}td.num{text-align:right;font-variant-numeric:tabular-nums}
.status-FINISHED{color:#1a7f37}.status-FAILED{color:#cf222e}.status-RUNNING{color:#9a6700}.status-KILLED{color:#666}
.pos{color:#1a7f37}.neg{color:#cf222e}
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{background:#fff;border:1px solid #ddd}
.gallery{display:flex;flex-wrap:wrap;gap:10px}.gallery figure{margin:0;background:#fff;border:1px solid #ddd;padding:4px}
.gallery img{width:160px;height:160px;object-fit:contain;image-rendering:pixelated}
.empty{color:#777;font-style:italic}form.filter{margin:8px 0}
`;

export function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${raw(STYLE)}</style></head>
<body><header><a href="/">pipeline</a> · ${title}</header><main>${body}</main></body></html>`.value;
}

function when(ms: number | undefined): string {
  return ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '';
}

function duration(r: TrackedRun): string {
  if (!r.endTime) return '';
  const s = (r.endTime - r.startTime) / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : s < 3600 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${(s / 3600).toFixed(1)} h`;
}

export function renderRunsPage(table: RunsTable, query: RunsQuery, trackerLabel: string): string {
  const link = (sort: string) => {
    const dir = query.sort === sort && query.dir !== 'asc' ? 'asc' : 'desc';
    const params = new URLSearchParams({ ...(query.q ? { q: query.q } : {}), ...(query.experiment ? { experiment: query.experiment } : {}), ...(query.all ? { all: '1' } : {}), sort, dir });
    const arrow = query.sort === sort ? (query.dir === 'asc' ? ' ▲' : ' ▼') : '';
    return { href: `/?${params}`, arrow };
  };
  const th = (label: string, sort: string) => {
    const l = link(sort);
    return html`<th><a href="${l.href}" data-sort="${sort}">${label}${l.arrow}</a></th>`;
  };
  const rows = table.runs.map(
    (r) => html`<tr data-run="${r.id}">
<td><input type="checkbox" name="id" value="${r.id}" aria-label="select ${r.name}"></td>
<td><a href="/compare?id=${encodeURIComponent(r.id)}">${r.name}</a>${r.parentId ? html` <small>(stage run)</small>` : ''}</td>
<td>${r.experiment}</td><td class="status-${r.status}">${r.status}</td><td>${when(r.startTime)}</td><td class="num">${duration(r)}</td>
${table.metricColumns.map((k) => html`<td class="num">${formatNumber(r.metrics[k])}</td>`)}</tr>`,
  );
  const body = html`
<form class="filter" method="get" action="/">
<input type="search" name="q" id="filter" placeholder="filter: name, param=value, status…" value="${query.q ?? ''}" size="40">
<select name="experiment"><option value="">all experiments</option>${table.experiments.map((e) => html`<option value="${e}"${e === query.experiment ? raw(' selected') : ''}>${e}</option>`)}</select>
<label><input type="checkbox" name="all" value="1"${query.all ? raw(' checked') : ''}> stage runs too</label>
<button type="submit">Filter</button> <small>${table.runs.length} runs · tracker: ${trackerLabel}</small>
</form>
<form method="get" action="/compare" id="compare-form">
<button type="submit" id="compare">Compare selected</button>
<table id="runs"><thead><tr><th></th>${th('run', 'name')}${th('experiment', 'experiment')}${th('status', 'status')}${th('started', 'start')}${th('duration', 'duration')}${table.metricColumns.map((k) => th(k, `metric:${k}`))}</tr></thead>
<tbody>${rows}</tbody></table>
${table.runs.length ? '' : html`<p class="empty">No runs yet: run <code>pipeline run experiments/demo.yaml</code>.</p>`}
</form>`;
  return page('runs', body);
}

function signed(v: number | undefined): SafeHtml {
  if (v === undefined || v === 0) return html``;
  return html` <span class="${v > 0 ? 'pos' : 'neg'}">(${v > 0 ? '+' : ''}${formatNumber(v)})</span>`;
}

export function renderComparePage(view: CompareView): string {
  const { comparison: c } = view;
  const runHeads = c.runs.map((r) => html`<th>${r.name}</th>`);
  const section = (title: string, id: string, content: SafeHtml | string, empty: boolean, emptyText: string) =>
    html`<section id="${id}"><h2>${title}</h2>${empty ? html`<p class="empty">${emptyText}</p>` : content}</section>`;
  const body = html`
<section id="runs-summary"><h2>Runs</h2><table><tr><th>run</th><th>id</th><th>experiment</th><th>status</th><th>started</th></tr>
${view.runs.map((r) => html`<tr><td>${r.name}</td><td><code>${r.id}</code></td><td>${r.experiment}</td><td class="status-${r.status}">${r.status}</td><td>${when(r.startTime)}</td></tr>`)}</table></section>
${section(
  'Params that differ',
  'params',
  html`<table><thead><tr><th>param</th>${runHeads}</tr></thead><tbody>${c.params.map((p) => html`<tr><td>${p.key}</td>${p.values.map((v) => html`<td>${v ?? '–'}</td>`)}</tr>`)}</tbody></table>
<p><small>${c.sameParams} params are the same in every run.</small></p>`,
  c.params.length === 0,
  `All ${c.sameParams} params are the same.`,
)}
${section(
  'Metrics',
  'metrics',
  html`<table><thead><tr><th>metric</th>${runHeads}</tr></thead><tbody>${c.metrics.map(
    (m) => html`<tr><td>${m.key}</td>${m.values.map((v, i) => {
      const ci = m.ci?.[i];
      return html`<td class="num">${v === undefined ? '–' : formatNumber(v)}${ci ? html` <small>[${formatNumber(ci[0])}, ${formatNumber(ci[1])}]</small>` : ''}${i > 0 ? signed(m.deltas[i]) : ''}</td>`;
    })}</tr>`,
  )}</tbody></table>`,
  c.metrics.length === 0,
  'No metrics logged.',
)}
${section('Learning curves', 'curves', html`<div class="charts">${view.curves.map((cv) => raw(lineChart(cv.series, { title: cv.metric, xLabel: 'epoch', yLabel: cv.metric })))}</div>`, view.curves.length === 0, 'No per-epoch metrics.')}
${section('ROC curves', 'roc', html`<div class="charts">${view.roc.map((r) => raw(lineChart(r.series, { title: `ROC ${r.name}`, xLabel: 'false positive rate', yLabel: 'true positive rate', xRange: [0, 1], yRange: [0, 1], diagonal: true })))}</div>`, view.roc.length === 0, 'No ROC curves in the evaluation reports.')}
${section(
  'Confusion matrices',
  'confusion',
  html`<div class="charts">${view.confusion.flatMap((entry) =>
    entry.matrices.map(
      (m) => html`<figure><figcaption>${entry.run.name} · ${m.name}</figcaption><table class="confusion"><tr><th>truth \\ predicted</th>${m.labels.map((l) => html`<th>${l}</th>`)}</tr>
${m.matrix.map((row, i) => html`<tr><th>${m.labels[i]}</th>${row.map((v) => html`<td class="num">${v}</td>`)}</tr>`)}</table></figure>`,
    ),
  )}</div>`,
  view.confusion.length === 0,
  'No confusion matrices in the evaluation reports.',
)}
${section(
  'Grad-CAM gallery',
  'gallery',
  html`${view.gallery.map(
    (g) => html`<h3>${g.run.name}</h3><div class="gallery">${g.images.map(
      (img) => html`<figure><img src="/artifact?run=${encodeURIComponent(img.runId)}&amp;path=${encodeURIComponent(img.path)}" alt="${img.path}" loading="lazy"><figcaption><small>${img.instance}: ${img.path}</small></figcaption></figure>`,
    )}</div>`,
  )}`,
  view.gallery.length === 0,
  'No images in the reports.',
)}`;
  return page(`compare ${view.runs.map((r) => r.name).join(' vs ')}`, body);
}

export function renderError(status: number, message: string): string {
  return page(`error ${status}`, html`<p>${message}</p><p><a href="/">back to the runs</a></p>`);
}
