import { sweepPoints, type SweepView } from './data.ts';
import { html, raw, type SafeHtml } from './html.ts';
import { metricScatter, parallelCoordinates } from './sweep-charts.ts';

/** Why an experiment's runs get no sweep charts, or undefined when they do. */
function noCharts(view: SweepView): string | undefined {
  const { metric } = view;
  if (!metric) return 'No metrics logged yet.';
  const plotted = view.runs.filter((r) => r.metrics[metric] !== undefined).length;
  if (!view.params.length || plotted < 2) return `The parallel-coordinates and scatter views need at least two runs with ${metric} and a param that differs between them.`;
  return undefined;
}

/** Parallel coordinates and metric-vs-param scatters of one experiment's runs. */
function charts(view: SweepView & { metric: string }, heading: (text: string) => SafeHtml, ids: boolean): SafeHtml {
  const { metric, params } = view;
  const points = sweepPoints(view.runs, metric);
  const lower = /loss|error|ece|brier/i.test(metric);
  return html`${heading(`${params.length} params that differ against ${metric}`)}
<p class="hint">One line per run across the params that differ among the listed runs, coloured by ${metric}: <span class="colourbar"></span> ${lower ? 'low (best) is yellow' : 'high is yellow'}. Pick another metric above; filter to narrow the runs.</p>
<div class="charts parallel"${ids ? raw(' id="parallel"') : ''}>${raw(parallelCoordinates(points, params, metric, { lowerIsBetter: lower }))}</div>
${heading(`${metric} against each param`)}
<div class="charts scatter"${ids ? raw(' id="scatter"') : ''}>${params.map((p) => raw(metricScatter(points, p, metric)))}</div>`;
}

/**
 * The runs page's sweep views. Runs of different experiments are never drawn in one chart (their
 * params and metrics have nothing to do with each other): with several experiments listed, each
 * gets its own charts, against the chosen metric where it has it, else its own headline metric.
 */
export function sweepSection(views: readonly SweepView[]): SafeHtml {
  if (views.length <= 1) {
    const view = views[0] ?? { experiment: '', runs: [], params: [] };
    const why = noCharts(view);
    return html`<section id="sweep">${why ? html`<h2>Sweep views</h2><p class="empty">${why}</p>` : charts({ ...view, metric: view.metric! }, (text) => html`<h2>${text}</h2>`, true)}</section>`;
  }
  return html`<section id="sweep"><h2>Sweep views, one per experiment</h2>${views.map((v) => {
    const why = noCharts(v);
    return html`<section class="sweep-experiment" data-experiment="${v.experiment}"><h3>${v.experiment}</h3>${why ? html`<p class="empty">${why}</p>` : charts({ ...v, metric: v.metric! }, (text) => html`<h4>${text}</h4>`, false)}</section>`;
  })}</section>`;
}
