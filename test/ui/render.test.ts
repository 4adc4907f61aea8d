import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { html, raw, escapeHtml } from '../../src/ui/html.ts';
import { lineChart, ticks } from '../../src/ui/svg.ts';
import { extractReportData } from '../../src/ui/report-data.ts';
import { startDashboard } from '../../src/ui/server.ts';
import { MlflowReader } from '../../src/tracking/mlflow/reader.ts';
import { mlflowClient } from '../../src/tracking/connection.ts';
import { createTracker } from '../../src/tracking/index.ts';
import { tempStore } from '../../src/testing/harness.ts';
import { MlflowDouble } from '../support/mlflow-double.ts';
import { emitFakeRun } from '../support/tracking-fixture.ts';

test('html escapes every interpolation unless raw', () => {
  const name = `<script>alert("x")</script>&'`;
  assert.equal(html`<td>${name}</td>`.value, '<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</td>');
  assert.equal(html`<p>${raw('<b>ok</b>')}${[1, html`<i>${'<'}</i>`]}${undefined}</p>`.value, '<p><b>ok</b>1<i>&lt;</i></p>');
  assert.equal(escapeHtml('`'), '&#96;');
});

test('ticks are round numbers inside the range; chart labels are escaped', () => {
  assert.deepEqual(ticks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(ticks(0.37, 0.93), [0.4, 0.6, 0.8]);
  assert.deepEqual(ticks(3, 3), [3]);
  const svg = lineChart([{ label: '<b>run</b>', points: [[0, 1], [1, 2]] }], { title: 'a<b', xLabel: 'epoch', yLabel: 'loss' });
  assert.ok(svg.includes('a&lt;b') && svg.includes('&lt;b&gt;run&lt;/b&gt;'));
  assert.ok(!svg.includes('<b>'));
  // x in [0, 1] over 390 px from 56; y in [1, 2] (round ticks, no padding) over 210 px above 238.
  assert.ok(svg.includes('<path d="M56.0 238.0 L446.0 28.0"'), 'hand-computed coordinates');
});

test('extractReportData finds ROC curves and confusion matrices in several layouts', () => {
  const data = extractReportData({
    metrics: { auc: 0.9 },
    roc: { A: { fpr: [0, 1], tpr: [0, 1], auc: 0.5 } },
    per_class: [{ name: 'B', curve: { fpr: [0, 0.5, 1], tpr: [0, 0.9, 1] } }],
    confusion_matrix: { classes: ['neg', 'pos'], matrix: [[5, 1], [2, 7]] },
    not_square: { matrix: [[1, 2, 3]] },
  });
  assert.deepEqual(data.roc.map((r) => [r.name, r.auc]), [['A', 0.5], ['B.curve', undefined]]);
  assert.deepEqual(data.confusion, [{ name: 'confusion', labels: ['neg', 'pos'], matrix: [[5, 1], [2, 7]] }]);
});

const double = await new MlflowDouble().start();
after(() => double.stop());

test('dashboard over MLflow: runs list, compare page with ROC from the uploaded report.json, artifact proxy', async () => {
  const store = await tempStore();
  for (const [runId, auc] of [['ui-m1', 0.7], ['ui-m2', 0.9]] as const) {
    const sink = await createTracker({ config: { experiment: 'ui-mlflow' }, store, experimentName: 'x', experimentFile: 'x.yaml', log: () => {}, env: { MLFLOW_TRACKING_URI: double.url } });
    await emitFakeRun(sink, store, { runId, auc });
    await sink.close?.();
  }
  const dashboard = await startDashboard({ reader: new MlflowReader(mlflowClient(double.url)), port: 0 });
  try {
    const list = await (await fetch(`${dashboard.url}/?experiment=ui-mlflow&sort=metric:evaluate/auc_macro&dir=desc`)).text();
    const order = [...list.matchAll(/<tr data-run="[0-9a-f]+">\s*<td><input[^>]*><\/td>\s*<td><a[^>]*>([^<]+)<\/a>/g)].map((m) => m[1]);
    assert.deepEqual(order, ['ui-m2', 'ui-m1']);
    const res = await fetch(`${dashboard.url}/compare?id=ui-m1&id=ui-m2`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const page = await res.text();
    assert.match(page, /data-series="ui-m1 \(AUC 0\.700\)"/);
    assert.match(page, /data-series="ui-m2 \(AUC 0\.900\)"/);
    assert.equal((page.match(/<table class="confusion">/g) ?? []).length, 2);
    const img = /<img src="([^"]+)"/.exec(page)![1].replace(/&amp;/g, '&');
    const png = await fetch(dashboard.url + img);
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.deepEqual([...new Uint8Array(await png.arrayBuffer()).slice(1, 4)], [0x50, 0x4e, 0x47]);
  } finally {
    await dashboard.close();
  }
});
