import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createTracker } from '../../src/tracking/index.ts';
import { LocalTrackReader, LocalTrackWriter } from '../../src/tracking/local/local-tracker.ts';
import { startDashboard, type Dashboard } from '../../src/ui/server.ts';
import { tempStore } from '../../src/testing/harness.ts';
import { emitFakeRun } from '../support/tracking-fixture.ts';
import { CHROMIUM, needs } from '../support/reference-tools.ts';
import { formatWithCi } from '../../src/tracking/compare.ts';
import type { TrackReader } from '../../src/tracking/model.ts';

const noChromium = needs('chromium');

const EVIL = '<script>window.__pwned=1</script>';
let browser: Browser;
let dashboard: Dashboard;
let reader: TrackReader;
const shots = await mkdtemp(join(tmpdir(), 'pipeline-ui-'));

before(async () => {
  const store = await tempStore();
  const seed = async (runId: string, auc: number, lr: number, start: number, extra: Record<string, unknown> = {}) => {
    const sink = await createTracker({ config: { experiment: 'cxr' }, store, experimentName: 'cxr', experimentFile: 'experiments/demo.yaml', log: () => {}, env: {} });
    // The evaluate report is the one the real evaluate stage writes (its layout, its plots).
    await emitFakeRun(sink, store, { runId, auc, lr, start, epochs: 4, trainParams: extra, realReport: true, logLr: true });
    await sink.close?.();
  };
  await seed('run-alpha', 0.72, 0.001, Date.UTC(2026, 0, 1));
  await seed('run-beta', 0.92, 0.01, Date.UTC(2026, 0, 2));
  await seed(EVIL, 0.5, 0.1, Date.UTC(2026, 0, 3), { note: '<img src=x onerror="window.__pwned=2">' });
  // An older detection experiment in the same store: other params, other metrics (mAP, FROC, no AUC).
  const det = new LocalTrackWriter(store, 'det');
  for (const [i, [lr, map50]] of ([[0.003, 0.41], [0.001, 0.47], [0.0003, 0.38]] as const).entries()) {
    const ref = `det-${i}`;
    const t = Date.UTC(2025, 11, 1 + i);
    await det.apply({ op: 'create-run', ref, name: ref, startTime: t, tags: [{ key: 'pipeline.run_id', value: ref }] });
    const params = [{ key: 'params.lr', value: String(lr) }, { key: 'params.size', value: '128' }, { key: 'train.model', value: 'csp-nano' }];
    const metrics = [['evaluate/map_50', map50], ['evaluate/map_40', map50 + 0.05], ['evaluate/coco_map', map50 / 2], ['evaluate/froc_0.5', 0.6 + i / 10]].map(([key, value]) => ({ key: key as string, value: value as number, timestamp: t, step: 0 }));
    await det.apply({ op: 'log-batch', ref, params, metrics, tags: [] });
    await det.apply({ op: 'end-run', ref, status: 'FINISHED', endTime: t + 60_000 });
    // Its train stage run, with a per-epoch loss on a detector's scale.
    const train = `${ref}/train`;
    await det.apply({ op: 'create-run', ref: train, parentRef: ref, name: train, startTime: t, tags: [{ key: 'pipeline.instance', value: 'train' }] });
    await det.apply({ op: 'log-batch', ref: train, params: [], metrics: [1, 2, 3].map((step) => ({ key: 'loss', value: 40 / step, timestamp: t + step, step })), tags: [] });
    await det.apply({ op: 'end-run', ref: train, status: 'FINISHED', endTime: t + 60_000 });
  }
  await det.close();
  reader = new LocalTrackReader(store);
  dashboard = await startDashboard({ reader, port: 0 });
  if (noChromium) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  await dashboard?.close();
});

test('dashboard binds 127.0.0.1 by default', () => {
  assert.match(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});

test('runs table: lists runs, sorts by a metric, filters, and shows a <script> run name as text', { skip: noChromium }, async () => {
  const page = await browser.newPage();
  let dialogs = 0;
  page.on('dialog', (d) => (dialogs++, d.dismiss()));
  await page.goto(dashboard.url + '/');
  const names = () => page.locator('#runs tbody tr td:nth-child(2) a').allTextContents();
  assert.deepEqual(await names(), [EVIL, 'run-beta', 'run-alpha'], 'newest first');
  assert.equal(await page.evaluate(() => (window as any).__pwned), undefined, 'run data never executes');
  assert.equal(await page.locator('main script').count(), 0);
  assert.equal(dialogs, 0);
  const header = page.locator('#runs thead th a[data-sort="metric:evaluate/auc"]');
  assert.equal(await header.count(), 1, 'evaluation metric is a column');
  await header.click(); // first click: descending
  assert.deepEqual(await names(), ['run-beta', 'run-alpha', EVIL]);
  await page.locator('#runs thead th a[data-sort="metric:evaluate/auc"]').click(); // ascending
  assert.deepEqual(await names(), [EVIL, 'run-alpha', 'run-beta']);
  await page.fill('#filter', 'train.lr=0.01');
  await page.click('form.filter button[type=submit]');
  assert.deepEqual(await names(), ['run-beta']);
  await page.screenshot({ path: join(shots, 'runs.png'), fullPage: true });
  assert.ok((await stat(join(shots, 'runs.png'))).size > 5000);
  await page.close();
});

test('compare page: params diff, metric deltas with CIs, learning curves, ROC overlay, confusion matrices, gallery', { skip: noChromium }, async () => {
  const page = await browser.newPage();
  await page.goto(dashboard.url + '/');
  await page.check('tr[data-run="run-alpha"] input[type=checkbox]');
  await page.check('tr[data-run="run-beta"] input[type=checkbox]');
  await Promise.all([page.waitForURL(/\/compare\?/), page.click('#compare')]);
  assert.match(page.url(), /\/compare\?id=run-beta&id=run-alpha$/);
  const paramsText = await page.locator('#params').innerText();
  assert.match(paramsText, /train\.lr\s+0\.01\s+0\.001/, 'runs in table order: beta (newer) first');
  assert.doesNotMatch(paramsText, /params\.size/, 'equal params are not listed');
  // Metrics as evaluate logged them, with CIs formatted like their values.
  const [beta, alpha] = await Promise.all(['run-beta', 'run-alpha'].map((id) => reader.getRun(id)));
  const m = (r: typeof beta, k: string) => formatWithCi(r!.metrics[k], [r!.metrics[`${k}_ci_low`], r!.metrics[`${k}_ci_high`]]);
  const aucRow = await page.locator('#metrics tr', { hasText: 'evaluate/auc_ci' }).count();
  assert.equal(aucRow, 0, 'CI bounds are not rows of their own');
  const row = await page.locator('#metrics tbody tr').filter({ has: page.locator('td:first-child', { hasText: /^evaluate\/auc$/ }) }).innerText();
  assert.ok(row.includes(m(beta, 'evaluate/auc')) && row.includes(m(alpha, 'evaluate/auc')), `${row} vs ${m(beta, 'evaluate/auc')} / ${m(alpha, 'evaluate/auc')}`);
  // Learning curves: loss, val_auc and lr each on their own axes, 2 runs x 2 folds = 4 lines each.
  assert.equal(await page.locator('#curves svg').count(), 3);
  assert.equal(await page.locator('#curves svg[aria-label="val_auc"] path[data-series]').count(), 4);
  assert.equal(await page.locator('#curves svg[aria-label="lr"] path[data-series]').count(), 4);
  const valTicks = (await page.locator('#curves svg[aria-label="val_auc"] text[text-anchor="end"]').allTextContents()).map(Number);
  assert.ok(valTicks.every((t) => t >= 0.4 && Number(t.toFixed(2)) === t), `round val_auc ticks away from 0: ${valTicks}`);
  // ROC curves and confusion matrices read from evaluate's own report.json layout.
  const roc = page.locator('#roc svg path[data-series]');
  assert.equal(await roc.count(), 2, 'one ROC line per run, overlaid');
  assert.deepEqual(await roc.evaluateAll((els) => els.map((e) => e.getAttribute('data-series'))), [`run-beta (AUC ${beta!.metrics['evaluate/auc'].toFixed(3)})`, `run-alpha (AUC ${alpha!.metrics['evaluate/auc'].toFixed(3)})`]);
  assert.equal(await page.locator('#confusion table.confusion').count(), 2);
  assert.match(await page.locator('#confusion table.confusion').first().innerText(), /truth \\ predicted\s+negative\s+positive\s+negative\s+\d+\s+\d+\s+positive\s+\d+\s+\d+/);
  assert.match(await page.locator('#confusion figcaption').first().innerText(), /run-beta · evaluate: Cardiomegaly/);
  const images = page.locator('#gallery img');
  assert.equal(await images.count(), 4, 'the gradcam gallery of both runs');
  for (let i = 0; i < 4; i++) await images.nth(i).scrollIntoViewIfNeeded(); // loading=lazy
  await page.waitForFunction(() => [...document.querySelectorAll('#gallery img')].every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0));
  assert.deepEqual(await images.evaluateAll((els) => els.map((e) => (e as HTMLImageElement).naturalWidth)), [32, 32, 32, 32], 'PNG served from the store');
  await page.screenshot({ path: join(shots, 'compare.png'), fullPage: true });
  assert.ok((await stat(join(shots, 'compare.png'))).size > 10000);
  await page.close();
});

test('compare page escapes a hostile run name and param values; artifacts are sandboxed', { skip: noChromium }, async () => {
  const page = await browser.newPage();
  await page.goto(`${dashboard.url}/compare?id=${encodeURIComponent(EVIL)}&id=run-alpha`);
  assert.equal(await page.evaluate(() => (window as any).__pwned), undefined);
  assert.match(await page.locator('#runs-summary').innerText(), /<script>window\.__pwned=1<\/script>/);
  assert.match(await page.locator('#params').innerText(), /<img src=x onerror="window\.__pwned=2">/);
  assert.equal(await page.locator('main img:not(#gallery img)').count(), 0);
  const res = await page.request.get(`${dashboard.url}/artifact?run=${encodeURIComponent('run-alpha/evaluate')}&path=report.html`);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'], /^sandbox/);
  assert.match(await res.text(), /<h1>Evaluation of ensemble/);
  assert.equal((await page.request.get(`${dashboard.url}/compare?id=nope`)).status(), 404);
  await page.close();
});

const rowsOf = (page: string) => [...page.matchAll(/<tr data-run="([^"]+)">/g)].map((m) => decodeURIComponent(m[1].replace(/&[^;]+;/g, '')));
const headsOf = (page: string, cls: string) => [...page.matchAll(new RegExp(`<th class="${cls}"><a [^>]*data-sort="[^"]*" title="[^"]*">([^<]+)</a></th>`, 'g'))].map((m) => m[1]);
const get = async (path: string) => (await fetch(dashboard.url + path)).text();

test('two experiments: the runs page lists the latest run\'s experiment by default, with only its params and metrics', async () => {
  const page = await get('/');
  assert.deepEqual(rowsOf(page).filter((id) => id.startsWith('det-')), [], 'no run of the other experiment');
  assert.equal(rowsOf(page).length, 3);
  assert.match(page, /id="experiment-note">Runs of <b>cxr<\/b>, the experiment of the latest run \(1 other: pick one above, or all experiments\)/);
  assert.match(page, /<option value="cxr" selected>cxr<\/option><option value="det">det<\/option><option value="\*">all experiments<\/option>/);
  const metrics = headsOf(page, 'metric');
  assert.ok(metrics.length > 0 && metrics.every((k) => !/map|froc/.test(k)), metrics.join(', '));
  assert.ok(headsOf(page, 'param').every((k) => k !== 'train.model'), 'no param of the other experiment');
  assert.doesNotMatch(page, /n\/a/);
  // The sweep views plot the three cxr runs only.
  assert.deepEqual([...page.matchAll(/stroke-opacity="0.85" data-run="([^"]+)"/g)].length, 3);

  const det = await get('/?experiment=det');
  assert.deepEqual(rowsOf(det), ['det-2', 'det-1', 'det-0']);
  assert.doesNotMatch(det, /id="experiment-note"/, 'chosen, not defaulted');
  assert.deepEqual(headsOf(det, 'metric'), ['evaluate/map_40', 'evaluate/map_50', 'evaluate/coco_map', 'evaluate/froc_0.5'], 'mAP first; only metrics these runs have');
  assert.deepEqual(headsOf(det, 'param'), ['params.lr']);
  assert.match(det, /<h2>1 params that differ against evaluate\/map_40<\/h2>/);
  // Every metric cell of the detection runs holds a number: no empty or n/a columns.
  const cells = [...det.matchAll(/<td class="num" title="[^"]*">([^<]*)<\/td>/g)].map((m) => m[1]);
  assert.equal(cells.length, 3 * 4);
  assert.ok(cells.every((c) => Number.isFinite(Number(c)) && c !== ''), cells.join(' '));
});

test('all experiments: an experiment column, and one sweep view per experiment, never one chart of both', async () => {
  const page = await get('/?experiment=*&metric=evaluate/auc');
  assert.equal(rowsOf(page).length, 6);
  assert.ok(headsOf(page, '').includes('experiment'));
  assert.match(page, /<option value="\*" selected>all experiments<\/option>/);
  const sections = [...page.matchAll(/<section class="sweep-experiment" data-experiment="([^"]+)">(.*?)<\/section>/gs)];
  assert.deepEqual(sections.map((m) => m[1]), ['cxr', 'det']);
  const plotted = (html: string) => [...html.matchAll(/stroke-opacity="0.85" data-run="([^"]+)"/g)].map((m) => m[1]).sort();
  assert.deepEqual(plotted(sections[0][2]), ['run-alpha', 'run-beta', EVIL.replace(/</g, '&lt;').replace(/>/g, '&gt;')].sort());
  assert.deepEqual(plotted(sections[1][2]), ['det-0', 'det-1', 'det-2']);
  assert.match(sections[0][2], /against evaluate\/auc</, 'the chosen metric where the experiment has it');
  assert.match(sections[1][2], /against evaluate\/map_40</, 'else the experiment\'s own headline metric');
  const metrics = headsOf(page, 'metric');
  assert.ok(metrics.includes('evaluate/auc') && metrics.includes('evaluate/map_40'), `each experiment's headline metric is a column: ${metrics.join(', ')}`);
  assert.doesNotMatch(page, /n\/a/);
});

test('compare page of runs of two experiments: learning curves per experiment, never one chart of both', async () => {
  const page = await get(`/compare?id=run-alpha&id=det-0`);
  assert.match(page, /id="mixed-experiments">Runs of 2 experiments/);
  const charts = [...page.matchAll(/<svg [^>]*class="chart"[^>]*aria-label="([^"]+)"[^>]*>(.*?)<\/svg>/gs)].map((m) => [m[1], [...m[2].matchAll(/data-series="([^"]+)"/g)].map((s) => s[1])] as const);
  const loss = Object.fromEntries(charts.filter(([label]) => label.startsWith('loss')));
  assert.deepEqual(Object.keys(loss), ['loss · cxr', 'loss · det']);
  assert.deepEqual(loss['loss · det'], ['det-0 · train']);
  assert.deepEqual(loss['loss · cxr'], ['run-alpha · train[fold=0]', 'run-alpha · train[fold=1]']);
  // Runs of one experiment keep one chart per metric.
  assert.match(await get('/compare?id=run-alpha&id=run-beta'), /aria-label="loss"/);
});
