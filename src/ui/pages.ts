import { formatNumber, formatWithCi } from '../tracking/compare.ts';
import type { TrackedRun } from '../tracking/model.ts';
import { commonDecimals, formatEstimate } from '../ops/report/escape.ts';
import { ALL_EXPERIMENTS, type CompareView, type RunsQuery, type RunsTable } from './data.ts';
import { sweepSection } from './sweep-views.ts';
import { html, raw, type SafeHtml } from './html.ts';
import { lineChart } from './svg.ts';
import { isLearningRate } from '../evaluation/learning-curves.ts';

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#234;color:#fff;padding:10px 20px}header a{color:#fff;text-decoration:none;font-weight:bold}
main{padding:12px 20px;max-width:1600px}
h2{font-size:17px;margin:18px 0 6px}
table{border-collapse:collapse;background:#fff;margin:8px 0}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
#runs td{white-space:nowrap}#runs th{white-space:nowrap}
thead th{background:#f0f3f6;position:sticky;top:0}
th a{color:#234;text-decoration:none}th a:hover{text-decoration:underline}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th.param,td.param{background:#f7f9ff}th.metric{background:#f3fbf4}
.scroll{overflow-x:auto;max-width:100%}
.status-FINISHED{color:#1a7f37}.status-FAILED{color:#cf222e}.status-RUNNING{color:#9a6700}.status-KILLED{color:#666}
.pos{color:#1a7f37}.neg{color:#cf222e}.sig{font-weight:bold}.baseline{background:#fff8e1}
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{background:#fff;border:1px solid #ddd}
.gallery{display:flex;flex-wrap:wrap;gap:10px}.gallery figure{margin:0;background:#fff;border:1px solid #ddd;padding:4px}
.gallery img{width:160px;height:160px;object-fit:contain;image-rendering:pixelated}
.empty{color:#777;font-style:italic}form.filter{margin:8px 0;display:flex;flex-wrap:wrap;gap:6px;align-items:center}
.hint{color:#666;font-size:12px}.error{color:#cf222e}
.colourbar{display:inline-block;width:160px;height:10px;background:linear-gradient(90deg,rgb(68,1,84),rgb(59,82,139),rgb(33,145,140),rgb(94,201,98),rgb(253,231,37));vertical-align:middle;margin:0 6px}
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

const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

/** The query string of the runs page with some fields replaced. */
function runsHref(query: RunsQuery, change: Partial<RunsQuery>): string {
  const q = { ...query, ...change };
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ q: q.q, experiment: q.experiment, all: q.all ? '1' : undefined, group: q.group, metric: q.metric, cols: q.cols, sort: q.sort, dir: q.sort ? q.dir : undefined })) if (v) params.set(k, v);
  const text = params.toString();
  return text ? `/?${text}` : '/';
}

export function renderRunsPage(table: RunsTable, query: RunsQuery, trackerLabel: string): string {
  const th = (label: string, sort: string, cls = '', titleText = label) => {
    const dir = query.sort === sort && query.dir !== 'asc' ? 'asc' : 'desc';
    const arrow = query.sort === sort ? (query.dir === 'asc' ? ' ▲' : ' ▼') : '';
    return html`<th class="${cls}"><a href="${runsHref(query, { sort, dir })}" data-sort="${sort}" title="${titleText}">${clip(label, 28)}${arrow}</a></th>`;
  };
  // One number format per metric column, so that values line up (0.9390 over 0.9028, not 0.939).
  const decimals = new Map(table.metricColumns.map((k) => [k, commonDecimals(table.runs.map((r) => r.metrics[k]))]));
  const metricCell = (r: TrackedRun, k: string) => {
    const v = r.metrics[k];
    const lo = r.metrics[`${k}_ci_low`];
    const hi = r.metrics[`${k}_ci_high`];
    if (v === undefined) return html`<td class="num"></td>`;
    const d = decimals.get(k)!;
    return html`<td class="num" title="${lo !== undefined && hi !== undefined ? formatWithCi(v, [lo, hi]) : String(v)}">${Number.isInteger(v) && d === 0 ? String(v) : Math.abs(v) < 1e-3 && v !== 0 ? formatNumber(v) : v.toFixed(d)}</td>`;
  };
  const mixed = table.sweeps.length > 1;
  const shownExperiment = table.experiment ?? (table.experiments.length === 1 ? table.experiments[0] : ALL_EXPERIMENTS);
  const rows = table.runs.map(
    (r) => html`<tr data-run="${r.id}">
<td><input type="checkbox" name="id" value="${r.id}" aria-label="select ${r.name}"></td>
<td><a href="/compare?id=${encodeURIComponent(r.id)}">${r.name}</a>${r.parentId && !table.group ? html` <small>(stage run)</small>` : ''}${table.groups.has(r.id) ? html` <a class="group" href="${runsHref(query, { group: r.id, sort: undefined })}">${table.groups.get(r.id)} variants</a>` : ''}</td>
${mixed ? html`<td>${clip(r.experiment, 32)}</td>` : ''}<td class="status-${r.status}">${r.status}</td><td>${when(r.startTime).slice(0, 16)}</td><td class="num">${duration(r)}</td>
${table.paramColumns.map((k) => html`<td class="param" title="${r.params[k] ?? ''}">${clip(r.params[k] ?? '', 24)}</td>`)}
${table.metricColumns.map((k) => metricCell(r, k))}</tr>`,
  );
  const option = (value: string, selected: boolean, label = value) => html`<option value="${value}"${selected ? raw(' selected') : ''}>${clip(label, 60)}</option>`;
  const metric = table.metric;
  const params = table.paramColumns;
  const views = sweepSection(table.sweeps);
  const body = html`
${table.group ? html`<p>Variants of <a href="/compare?id=${encodeURIComponent(table.group.id)}">${table.group.name}</a> · <a href="${runsHref(query, { group: undefined })}">all runs</a></p>` : ''}
<form class="filter" method="get" action="/">
${table.group ? html`<input type="hidden" name="group" value="${table.group.id}">` : ''}
<input type="search" name="q" id="filter" placeholder="filter: evaluate/auc_macro>0.8, train.lr<=1e-3, resnet" value="${query.q ?? ''}" size="46" aria-label="filter">
<select name="experiment" id="experiment" aria-label="experiment">${table.experiments.map((e) => option(e, e === shownExperiment))}${table.experiments.length === 1 ? '' : option(ALL_EXPERIMENTS, shownExperiment === ALL_EXPERIMENTS, 'all experiments')}</select>
<label>metric <select name="metric" id="metric">${table.metricKeys.slice(0, 400).map((k) => option(k, k === metric))}</select></label>
<input type="text" name="cols" placeholder="more columns: param:train.lr, metric:evaluate/f1_macro" value="${query.cols ?? ''}" size="34" aria-label="more columns" list="column-keys">
<datalist id="column-keys">${table.paramKeys.slice(0, 400).map((k) => html`<option value="param:${k}">`)}${table.metricKeys.slice(0, 400).map((k) => html`<option value="metric:${k}">`)}</datalist>
<label><input type="checkbox" name="all" value="1"${query.all ? raw(' checked') : ''}> stage runs too</label>
<input type="hidden" name="sort" value="${query.sort ?? ''}"><input type="hidden" name="dir" value="${query.dir ?? ''}">
<button type="submit">Apply</button> <small>${table.runs.length} runs · tracker: ${trackerLabel}</small>
</form>
<p class="hint">Filter terms are joined by commas: <code>metric&gt;value</code>, <code>param=value</code>, <code>name~text</code>, <code>tags.key=value</code>, or a word. Click a column to sort; params that differ among the listed runs are shown as columns.</p>
${table.defaulted ? html`<p class="hint" id="experiment-note">Runs of <b>${table.experiment}</b>, the experiment of the latest run (${table.experiments.length - 1} other${table.experiments.length > 2 ? 's' : ''}: pick one above, or all experiments).</p>` : ''}
${table.filterError ? html`<p class="error">${table.filterError}</p>` : ''}
<form method="get" action="/compare" id="compare-form">
<button type="submit" id="compare">Compare selected</button>
<div class="scroll"><table id="runs"><thead><tr><th></th>${th('run', 'name')}${mixed ? th('experiment', 'experiment') : ''}${th('status', 'status')}${th('started', 'start')}${th('duration', 'duration')}${params.map((k) => th(k, `param:${k}`, 'param', `param ${k}`))}${table.metricColumns.map((k) => th(k, `metric:${k}`, 'metric', `metric ${k}`))}</tr></thead>
<tbody>${rows}</tbody></table></div>
${table.runs.length ? '' : html`<p class="empty">No runs${query.q ? ' match the filter' : html` yet: run <code>pipeline run experiments/demo.yaml</code>`}.</p>`}
</form>
${views}`;
  return page(table.group ? `variants of ${table.group.name}` : 'runs', body);
}

function signed(v: number | undefined, ci?: [number, number], decimals?: number): SafeHtml {
  if (v === undefined) return html``;
  const significant = ci && (ci[0] > 0 || ci[1] < 0);
  const f = ci ? formatEstimate(v, ci[0], ci[1], 4, decimals) : { value: decimals === undefined || (Math.abs(v) < 1e-3 && v !== 0) ? formatNumber(v) : v.toFixed(decimals) };
  const text = `${v > 0 ? '+' : v < 0 ? '' : '±'}${f.value}${f.low !== undefined ? ` [${f.low}, ${f.high}]` : ''}`;
  return html` <span class="${v > 0 ? 'pos' : v < 0 ? 'neg' : ''}${significant ? ' sig' : ''}" title="${ci ? 'delta to the baseline with an approximate 95% interval (independent-samples; conservative for runs on the same test set)' : 'delta to the baseline'}">(${text})</span>`;
}

/** Params that differ: a column per run up to 4 runs, else a row per run (a sweep's table). */
function paramsTable(view: CompareView): SafeHtml {
  const c = view.comparison;
  const b = c.baseline;
  const note = html`<p><small>${c.sameParams} params are the same in every run.</small></p>`;
  if (c.runs.length <= 4) {
    const heads = c.runs.map((r, i) => html`<th class="${i === b ? 'baseline' : ''}">${clip(r.name, 40)}${i === b ? html` <small>(baseline)</small>` : ''}</th>`);
    return html`<div class="scroll"><table><thead><tr><th>param</th>${heads}</tr></thead><tbody>${c.params.map((p) => html`<tr><td>${p.key}</td>${p.values.map((v, i) => html`<td class="${i === b ? 'baseline' : ''}">${v ?? '–'}</td>`)}</tr>`)}</tbody></table></div>${note}`;
  }
  return html`<div class="scroll"><table><thead><tr><th>run</th>${c.params.map((p) => html`<th title="${p.key}">${clip(p.key, 30)}</th>`)}</tr></thead><tbody>${c.runs.map(
    (r, i) => html`<tr class="${i === b ? 'baseline' : ''}"><td>${clip(r.name, 40)}${i === b ? html` <small>(baseline)</small>` : ''}</td>${c.params.map((p) => html`<td title="${p.values[i] ?? ''}">${clip(p.values[i] ?? '–', 30)}</td>`)}</tr>`,
  )}</tbody></table></div>${note}`;
}

/**
 * Metric values with CIs and deltas to the baseline. Up to 4 runs: a column per run; more: a row per
 * run and a column per metric (first 8), which stays readable at 1280 px. One number format per metric.
 */
function metricsTable(view: CompareView): SafeHtml {
  const c = view.comparison;
  const b = c.baseline;
  const cell = (m: CompareView['comparison']['metrics'][number], i: number, d: number) => {
    const v = m.values[i];
    const ci = m.ci?.[i];
    const text = v === undefined ? '–' : ci ? formatWithCi(v, ci, d) : Math.abs(v) < 1e-3 && v !== 0 ? formatNumber(v) : Number.isInteger(v) && d === 0 ? String(v) : v.toFixed(d);
    return html`<td class="num${i === b ? ' baseline' : ''}">${text}${i !== b ? html`<br>${signed(m.deltas[i], m.deltaCi?.[i], d)}` : ''}</td>`;
  };
  const rowDecimals = (m: CompareView['comparison']['metrics'][number]) => commonDecimals([...m.values, ...(m.ci ?? []).flatMap((x) => x ?? [])]);
  const hint = html`<p class="hint">Value [95% CI]; below it the delta to the baseline [approximate 95% interval of the delta: independent-samples, so conservative for runs on the same test set]; bold: the interval excludes 0.</p>`;
  if (c.runs.length <= 4) {
    const heads = c.runs.map((r, i) => html`<th class="${i === b ? 'baseline' : ''}">${clip(r.name, 40)}${i === b ? html` <small>(baseline)</small>` : ''}</th>`);
    return html`${hint}<div class="scroll"><table><thead><tr><th>metric</th>${heads}</tr></thead><tbody>${c.metrics.map((m) => {
      const d = rowDecimals(m);
      return html`<tr><td>${m.key}</td>${m.values.map((_, i) => cell(m, i, d))}</tr>`;
    })}</tbody></table></div>`;
  }
  const shown = c.metrics.slice(0, 8);
  const decimals = shown.map(rowDecimals);
  return html`${hint}<div class="scroll"><table><thead><tr><th>run</th>${shown.map((m) => html`<th title="${m.key}">${clip(m.key, 30)}</th>`)}</tr></thead><tbody>${c.runs.map(
    (r, i) => html`<tr class="${i === b ? 'baseline' : ''}"><td>${clip(r.name, 40)}${i === b ? html` <small>(baseline)</small>` : ''}</td>${shown.map((m, k) => cell(m, i, decimals[k]))}</tr>`,
  )}</tbody></table></div>${c.metrics.length > shown.length ? html`<p class="hint">${c.metrics.length - shown.length} more metrics: <code>pipeline runs compare</code> lists all.</p>` : ''}`;
}

export function renderComparePage(view: CompareView): string {
  const { comparison: c } = view;
  const b = c.baseline;
  const ids = view.runs.map((r) => r.id);
  const experiments = new Set(view.runs.map((r) => r.experiment));
  const section = (title: string, id: string, content: SafeHtml | string, empty: boolean, emptyText: string) =>
    html`<section id="${id}"><h2>${title}</h2>${empty ? html`<p class="empty">${emptyText}</p>` : content}</section>`;
  const body = html`
<section id="runs-summary"><h2>Runs</h2><table><tr><th>run</th><th>id</th><th>experiment</th><th>status</th><th>started</th></tr>
${view.runs.map((r) => html`<tr><td>${r.name}</td><td><code>${r.id}</code></td><td>${r.experiment}</td><td class="status-${r.status}">${r.status}</td><td>${when(r.startTime)}</td></tr>`)}</table>
${experiments.size > 1 ? html`<p class="hint" id="mixed-experiments">Runs of ${experiments.size} experiments: – marks a param or metric a run does not have; learning curves are drawn per experiment.</p>` : ''}</section>
<form method="get" action="/compare" id="baseline-form">${ids.map((id) => html`<input type="hidden" name="id" value="${id}">`)}
<label>deltas against <select name="baseline" id="baseline">${view.runs.map((r, i) => html`<option value="${i}"${i === b ? raw(' selected') : ''}>${clip(r.name, 60)}</option>`)}</select></label> <button type="submit">Apply</button></form>
${section('Params that differ', 'params', paramsTable(view), c.params.length === 0, `All ${c.sameParams} params are the same.`)}
${section('Metrics', 'metrics', metricsTable(view), c.metrics.length === 0, 'No metrics logged.')}
${section('Learning curves', 'curves', html`<p class="hint">One chart per metric (losses, scores and the learning rate each on their own axes)${experiments.size > 1 ? ' and experiment' : ''}; one colour per run, its folds drawn in that colour.</p><div class="charts">${view.curves.map((cv) => raw(lineChart(cv.series, { title: cv.experiment ? `${cv.metric} · ${cv.experiment}` : cv.metric, xLabel: 'epoch', yLabel: cv.metric, width: 600, integerX: true, logY: isLearningRate(cv.metric) })))}</div>`, view.curves.length === 0, 'No per-epoch metrics.')}
${section('ROC curves', 'roc', html`<div class="charts">${view.roc.map((r) => raw(lineChart(r.series, { title: `ROC ${r.name}`, xLabel: 'false positive rate', yLabel: 'true positive rate', xRange: [0, 1], yRange: [0, 1], diagonal: true, markers: false, width: 600 })))}</div>`, view.roc.length === 0, 'No ROC curves in the evaluation reports.')}
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
  return page(`compare ${view.runs.length > 4 ? `${view.runs.length} runs` : view.runs.map((r) => r.name).join(' vs ')}`, body);
}

export function renderError(status: number, message: string): string {
  return page(`error ${status}`, html`<p>${message}</p><p><a href="/">back to the runs</a></p>`);
}
