import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createTracker } from '../../src/tracking/index.ts';
import { LocalTrackReader } from '../../src/tracking/local/local-tracker.ts';
import type { TrackedRun } from '../../src/tracking/model.ts';
import { startDashboard, type Dashboard } from '../../src/ui/server.ts';
import { tempStore } from '../../src/testing/harness.ts';
import { emitFakeRun } from '../support/tracking-fixture.ts';
import { CHROMIUM, needs } from '../support/reference-tools.ts';

const noChromium = needs('chromium');

// Issue 14 item 7: the dashboard with 40 runs of a sweep over lr x model (+ a hostile param value),
// in Chromium at 1280 px. Screenshots go to $UI_SHOTS_DIR (default: a temp folder, printed).
const LRS = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2];
const MODELS = ['small-cnn', 'resnet18', 'resnet34', 'densenet121'];
const HOSTILE = '<img src=x onerror="window.__pwned=3">';
let browser: Browser;
let dashboard: Dashboard;
let runs: TrackedRun[];
let shots: string;

/** A deterministic AUC surface: best at lr 1e-3, deeper models slightly better, plus small noise. */
function aucOf(i: number, lr: number, model: string): number {
  const distance = Math.abs(Math.log10(lr) + 3);
  return Number((0.9 - 0.08 * distance + 0.01 * MODELS.indexOf(model) + ((i * 7919) % 13) / 1000).toFixed(4));
}

before(async () => {
  if (noChromium) return;
  shots = process.env.UI_SHOTS_DIR ?? (await mkdtemp(join(tmpdir(), 'pipeline-ui-many-')));
  await mkdir(shots, { recursive: true });
  const store = await tempStore();
  for (let i = 0; i < 40; i++) {
    const lr = LRS[i % LRS.length];
    const model = MODELS[Math.floor(i / LRS.length) % MODELS.length];
    const sink = await createTracker({ config: { experiment: 'sweep' }, store, experimentName: 'sweep', experimentFile: 'experiments/demo.yaml', log: () => {}, env: {} });
    await emitFakeRun(sink, store, {
      runId: `sweep-${String(i).padStart(2, '0')}`,
      auc: aucOf(i, lr, model),
      lr,
      start: Date.UTC(2026, 1, 1) + i * 60_000,
      epochs: 3,
      folds: 1,
      logLr: true,
      runParams: { lr, model, batch: i === 39 ? HOSTILE : 16 },
      trainParams: { model },
    });
    await sink.close?.();
  }
  const reader = new LocalTrackReader(store);
  runs = await reader.listRuns({ parentsOnly: true });
  dashboard = await startDashboard({ reader, port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  console.log(`# dashboard screenshots: ${shots}`);
});

after(async () => {
  await browser?.close();
  await dashboard?.close();
});

async function open(path: string): Promise<{ page: Page; external: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const external: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(dashboard.url) && !r.url().startsWith('data:')) external.push(r.url());
  });
  await page.goto(dashboard.url + path);
  return { page, external };
}

const names = (page: Page) => page.locator('#runs tbody tr td:nth-child(2) > a:first-child').allTextContents();
const column = async (page: Page, header: string) => {
  const heads = await page.locator('#runs thead th').allTextContents();
  const index = heads.findIndex((h) => h.replace(/[ ▲▼]+$/, '') === header);
  assert.ok(index >= 0, `column ${header} in ${heads.join(' | ')}`);
  return page.locator(`#runs tbody tr td:nth-child(${index + 1})`).allTextContents();
};

test('40 runs: the swept params are columns; sort and filter by any param or metric', { skip: noChromium }, async () => {
  const { page, external } = await open('/');
  assert.equal((await names(page)).length, 40);
  const paramHeads = await page.locator('#runs thead th.param').allTextContents();
  assert.deepEqual(paramHeads.slice(0, 3), ['params.batch', 'params.lr', 'params.model'], 'experiment params that differ come first');
  assert.ok(paramHeads.includes('train.model'), paramHeads.join(', '));
  assert.ok(!paramHeads.includes('params.size') && !paramHeads.includes('train.epochs'), 'params equal in every run are not columns');
  // Sort by a param (numeric order, not text order) and by a metric.
  await page.click('#runs thead th a[data-sort="param:params.lr"]');
  await page.click('#runs thead th a[data-sort="param:params.lr"]');
  const lrs = (await column(page, 'params.lr')).map(Number);
  assert.deepEqual(lrs, [...lrs].sort((a, b) => a - b), 'ascending lr');
  assert.equal(lrs[0], 1e-4);
  await page.click('#runs thead th a[data-sort="metric:evaluate/auc_macro"]');
  const aucs = (await column(page, 'evaluate/auc_macro')).map(Number);
  assert.deepEqual(aucs, [...aucs].sort((a, b) => b - a), 'descending AUC');
  assert.equal(aucs[0], Math.max(...runs.map((r) => r.metrics['evaluate/auc_macro'])));
  await page.screenshot({ path: join(shots, 'runs-40.png'), fullPage: true });
  // Filter by metric and param together.
  await page.fill('#filter', 'evaluate/auc_macro>=0.85, params.model=resnet34');
  await page.click('form.filter button[type=submit]');
  const expected = runs.filter((r) => r.metrics['evaluate/auc_macro'] >= 0.85 && r.params['params.model'] === 'resnet34').map((r) => r.name).sort();
  assert.ok(expected.length > 0 && expected.length < 10, `${expected.length} runs expected`);
  assert.deepEqual((await names(page)).sort(), expected);
  await page.fill('#filter', 'train.lr<=3e-4');
  await page.click('form.filter button[type=submit]');
  assert.equal((await names(page)).length, runs.filter((r) => Number(r.params['train.lr']) <= 3e-4).length);
  assert.equal(await page.evaluate(() => (window as any).__pwned), undefined, 'a hostile param value stays text');
  assert.deepEqual(external, [], 'no external resources');
  await page.close();
});

test('40 runs: parallel coordinates of params against the chosen metric, and metric-vs-param scatter', { skip: noChromium }, async () => {
  const { page, external } = await open('/?metric=evaluate/auc_macro');
  const lines = page.locator('#parallel svg path[data-run]');
  assert.equal(await lines.count(), 40, 'one line per run');
  const axes = await page.locator('#parallel svg text[data-axis]').evaluateAll((els) => els.map((e) => e.getAttribute('data-axis')));
  assert.deepEqual(axes.slice(0, 3), ['params.batch', 'params.lr', 'params.model']);
  assert.equal(axes.at(-1), 'evaluate/auc_macro', 'the metric is the last axis');
  assert.match(await page.locator('#parallel').innerHTML(), />log scale</, 'lr spans two decades: log axis');
  // The best run's line is the brightest (yellow end of viridis).
  const best = runs.reduce((a, b) => (b.metrics['evaluate/auc_macro'] > a.metrics['evaluate/auc_macro'] ? b : a));
  assert.equal(await page.locator(`#parallel svg path[data-run="${best.id}"]`).getAttribute('stroke'), 'rgb(253,231,37)');
  const scatters = page.locator('#scatter svg');
  assert.equal(await scatters.count(), await page.locator('#runs thead th.param').count(), 'one scatter per differing param');
  const lrScatter = page.locator('#scatter svg[aria-label="evaluate/auc_macro against params.lr"]');
  assert.equal(await lrScatter.locator('circle[data-run]').count(), 40);
  assert.match(await lrScatter.innerHTML(), /\(log\)/);
  // Another metric re-colours and re-plots.
  await page.selectOption('#metric', 'evaluate/f1_macro');
  await page.click('form.filter button[type=submit]');
  assert.equal(await page.locator('#parallel svg text[data-axis]').last().getAttribute('data-axis'), 'evaluate/f1_macro');
  // Texts never overlap the next axis: labels are clipped to fit.
  const overlaps = await page.locator('#parallel svg text[data-axis]').evaluateAll((els) => {
    const boxes = els.map((e) => (e as SVGGraphicsElement).getBoundingClientRect());
    return boxes.slice(1).filter((b, i) => b.left < boxes[i].right - 1).length;
  });
  assert.equal(overlaps, 0, 'axis titles do not overlap');
  await page.goto(dashboard.url + '/?metric=evaluate/auc_macro');
  await page.locator('#sweep').screenshot({ path: join(shots, 'sweep-views-40.png') });
  assert.ok((await stat(join(shots, 'sweep-views-40.png'))).size > 20000);
  assert.equal(await page.evaluate(() => (window as any).__pwned), undefined);
  assert.deepEqual(external, []);
  await page.close();
});

test('compare many runs against a chosen baseline: deltas with intervals, learning curves with lr on its own axes, readable legends', { skip: noChromium }, async () => {
  const picked = runs.slice(0, 12);
  const ids = picked.map((r) => `id=${encodeURIComponent(r.id)}`).join('&');
  const { page, external } = await open(`/compare?${ids}&baseline=3`);
  // 12 runs: a row per run, a column per metric.
  assert.match(await page.locator('#metrics tbody tr.baseline').innerText(), new RegExp(`^${picked[3].name} \\(baseline\\)`));
  const base = picked[3].metrics['evaluate/auc_macro'];
  const heads = await page.locator('#metrics thead th').allTextContents();
  const col = heads.indexOf('evaluate/auc_macro');
  assert.ok(col > 0, heads.join(' | '));
  const firstCell = await page.locator('#metrics tbody tr').first().locator('td').nth(col).innerText();
  const delta = picked[0].metrics['evaluate/auc_macro'] - base;
  // Every value of the column has the same number of decimals.
  const values = await page.locator('#metrics tbody tr').evaluateAll((trs, c) => trs.map((tr) => (tr.children[c] as HTMLElement).innerText.split(' ')[0]), col);
  assert.equal(new Set(values.map((v) => v.split('.')[1]?.length ?? 0)).size, 1, values.join(', '));
  const shown = /\(([+-]?[\d.]+) \[([-\d.]+), ([-\d.]+)\]\)/.exec(firstCell);
  assert.ok(shown, firstCell);
  assert.ok(Math.abs(Number(shown[1]) - delta) < 1e-4, `${firstCell}: delta ${delta}`);
  assert.ok(Number(shown[2]) < Number(shown[1]) && Number(shown[1]) < Number(shown[3]), 'the delta sits inside its interval');
  // Learning curves: loss, val_auc and lr each have their own chart.
  const charts = await page.locator('#curves svg').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
  assert.deepEqual(charts, ['loss', 'val_auc', 'lr']);
  const lrTicks = await page.locator('#curves svg[aria-label="lr"] text[text-anchor="end"]').allTextContents();
  assert.ok(lrTicks.every((t) => /^(0|\d(\.\d+)?(e-\d+)?|0\.\d+)$/.test(t)), `round lr ticks: ${lrTicks}`);
  // Legends: 12 runs, entries do not overlap and are not cut by the chart's edge.
  const legend = await page.locator('#curves svg[aria-label="val_auc"]').evaluate((svg) => {
    const box = svg.getBoundingClientRect();
    const items = [...svg.querySelectorAll('g.legend text')].map((t) => t.getBoundingClientRect());
    const overlap = items.some((a, i) => items.some((b, j) => i < j && a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom));
    return { count: items.length, overlap, inside: items.every((r) => r.right <= box.right + 0.5 && r.bottom <= box.bottom + 0.5) };
  });
  assert.deepEqual(legend, { count: 12, overlap: false, inside: true });
  await page.screenshot({ path: join(shots, 'compare-12.png'), fullPage: true });
  assert.deepEqual(external, []);
  await page.close();
});
