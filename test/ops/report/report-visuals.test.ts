import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderHtmlReport } from '../../../src/ops/report/html.ts';
import { formatEstimate } from '../../../src/ops/report/escape.ts';
import { lineChart, niceTicks } from '../../../src/ops/report/svg.ts';
import { learningCurvePlots } from '../../../src/evaluation/learning-curves.ts';
import { formatWithCi } from '../../../src/tracking/compare.ts';

// Issue 11, report visuals.
test('CI bounds are formatted like their value: 0.9945 [0.9890, 1.0000], never "0.9945 - 1"', () => {
  const html = renderHtmlReport({ title: 't', facts: {}, metrics: [{ name: 'auc', value: 0.9945, low: 0.989, high: 1 }, { name: 'f1', value: 0.5, low: 0.25, high: 0.75 }, { name: 'n', value: 3 }], plots: [] });
  assert.match(html, /<td>auc<\/td><td>0\.9945<\/td><td>0\.9890 – 1\.0000<\/td>/);
  assert.match(html, /<td>f1<\/td><td>0\.50<\/td><td>0\.25 – 0\.75<\/td>/);
  assert.doesNotMatch(html, /– 1</);
  assert.deepEqual(formatEstimate(0.86, 0.81, 0.9), { value: '0.86', low: '0.81', high: '0.90' });
  assert.equal(formatWithCi(0.9945, [0.989, 1]), '0.9945 [0.9890, 1.0000]');
  assert.equal(formatWithCi(1, [1, 1]), '1 [1, 1]');
});

test('the learning rate gets its own chart, never the AUC axis', () => {
  const history = [0, 1, 2, 3].map((epoch) => ({ epoch, loss: 0.7 - epoch * 0.1, val_loss: 0.75 - epoch * 0.08, val_auc: 0.6 + epoch * 0.05, lr: 0.003 * 0.5 ** epoch }));
  const plots = learningCurvePlots({ 'train[fold=0]': history });
  assert.deepEqual(Object.keys(plots).sort(), ['plots/learning-loss.svg', 'plots/learning-metrics.svg', 'plots/learning-rate.svg']);
  assert.doesNotMatch(plots['plots/learning-metrics.svg'], />lr</);
  assert.match(plots['plots/learning-metrics.svg'], />val_auc</);
  assert.match(plots['plots/learning-rate.svg'], />lr</);
  // The metrics axis spans the AUC values, not [0, AUC] as it did with lr on it.
  const labels = tickLabels(plots['plots/learning-metrics.svg']);
  assert.ok(Number(labels.y[0]) >= 0.5, `y axis starts at ${labels.y[0]}`);
});

test('axis ticks are round numbers and the axes end on a tick', () => {
  assert.deepEqual(niceTicks(0.4, 0.9), [0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
  const svg = lineChart({ title: 'x', xLabel: 'epoch', yLabel: 'auc', series: [{ name: 'a', x: [0, 1, 2, 3, 4, 5, 6], y: [0.4123, 0.5, 0.61, 0.7, 0.81, 0.85, 0.8977] }] });
  const { x, y } = tickLabels(svg);
  assert.deepEqual(y, ['0.4', '0.5', '0.6', '0.7', '0.8', '0.9']);
  assert.deepEqual(x, ['0', '2', '4', '6']);
  const lr = lineChart({ title: 'lr', xLabel: 'epoch', yLabel: 'lr', series: [{ name: 'lr', x: [0, 1, 2], y: [3e-4, 1.5e-4, 7.5e-5] }] });
  for (const label of tickLabels(lr).y) assert.match(label, /^(0|[1-9](\.\d)?e-\d)$/, label);
});

/** The tick label texts of a report chart: x labels sit under the plot, y labels right-aligned at its left. */
function tickLabels(svg: string): { x: string[]; y: string[] } {
  const x = [...svg.matchAll(/<text x="[\d.]+" y="388" text-anchor="middle">([^<]+)<\/text>/g)].map((m) => m[1]);
  const y = [...svg.matchAll(/<text x="54" y="[\d.]+" text-anchor="end">([^<]+)<\/text>/g)].map((m) => m[1]);
  return { x, y };
}

test("the run summary's headline metrics: bounds with the value's decimals, never `[0.989, 1]`", async () => {
  const { withInterval } = await import('../../../src/cli/reporters/headline-metrics.ts');
  assert.equal(withInterval(0.99654, 0.98912, 1), '0.997 [0.989, 1.000]');
  assert.equal(withInterval(1, 0.98, 1), '1.000 [0.980, 1.000]');
  assert.equal(withInterval(0.5), '0.500');
  assert.equal(withInterval(97), '97');
  assert.equal(withInterval(3, 2, 4), '3 [2, 4]');
});
