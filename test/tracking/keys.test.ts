import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitParam, flattenParams, sanitizeKey, shortenStable } from '../../src/tracking/keys.ts';
import { planBatches } from '../../src/tracking/mlflow/client.ts';
import { instanceKey } from '../../src/tracking/event-tracker.ts';

test('flattenParams gives dotted keys, JSON for scalar arrays, indexes for object arrays', () => {
  assert.deepEqual(flattenParams({ clahe: { clip: 2, tiles: 8 }, crop: {}, metrics: ['auc', 'f1'], loss: { asl: { gamma_neg: 4 } }, name: 'x', on: true, none: null }, 'with'), {
    'with.clahe.clip': '2',
    'with.clahe.tiles': '8',
    'with.crop': '{}',
    'with.metrics': '["auc","f1"]',
    'with.loss.asl.gamma_neg': '4',
    'with.name': 'x',
    'with.on': 'true',
    'with.none': 'null',
  });
  assert.deepEqual(flattenParams({ transforms: [{ name: 'hflip' }, { name: 'shift', px: 4 }] }), { 'transforms.0.name': 'hflip', 'transforms.1.name': 'shift', 'transforms.1.px': '4' });
});

test('sanitizeKey keeps MLflow-legal names and replaces the rest', () => {
  assert.equal(sanitizeKey('with.clahe.clip'), 'with.clahe.clip');
  assert.equal(sanitizeKey('auc[No finding]'), 'auc_No finding_');
  assert.equal(sanitizeKey('/a//b/../c'), 'a/b/_/c');
  assert.equal(sanitizeKey('a:b=c'), 'a_b_c');
});

test('shortenStable keeps the limit, is deterministic and distinguishes different long values', () => {
  const a = 'x'.repeat(600);
  const b = 'x'.repeat(599) + 'y';
  assert.equal(shortenStable(a, 500).length, 500);
  assert.equal(shortenStable(a, 500), shortenStable(a, 500));
  assert.notEqual(shortenStable(a, 500), shortenStable(b, 500));
  assert.match(shortenStable(a, 500), /~[0-9a-f]{12}$/);
  assert.equal(shortenStable('short', 500), 'short');
  const fitted = fitParam('k'.repeat(300), 'v'.repeat(501));
  assert.equal(fitted.key.length, 250);
  assert.equal(fitted.value.length, 500);
  assert.match(fitted.shortened ?? '', /shortened from 501 to 500 chars/);
});

test('planBatches respects 1000 metrics / 100 params / 100 tags / 1000 items per request', () => {
  const m = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `m${i}`, value: i, timestamp: 1, step: 0 }));
  const kv = (n: number, p: string) => Array.from({ length: n }, (_, i) => ({ key: `${p}${i}`, value: 'v' }));
  const plan = planBatches({ metrics: m(2500), params: kv(250, 'p'), tags: kv(120, 't') });
  for (const r of plan) {
    assert.ok(r.metrics.length <= 1000 && r.params.length <= 100 && r.tags.length <= 100);
    assert.ok(r.metrics.length + r.params.length + r.tags.length <= 1000);
  }
  assert.equal(plan.reduce((s, r) => s + r.metrics.length, 0), 2500);
  assert.equal(plan.reduce((s, r) => s + r.params.length, 0), 250);
  assert.equal(plan.reduce((s, r) => s + r.tags.length, 0), 120);
  // Metrics fill the room left by params and tags: 800 + 880 + 820 = 2500 in 3 requests.
  assert.deepEqual(plan.map((r) => [r.metrics.length, r.params.length, r.tags.length]), [[800, 100, 100], [880, 100, 20], [820, 50, 0]]);
  assert.deepEqual(planBatches({ metrics: [], params: [], tags: [] }), []);
});

test('instanceKey turns foreach instance ids into metric-key prefixes', () => {
  assert.equal(instanceKey('train[fold=2]'), 'train.fold_2');
  assert.equal(instanceKey('train[fold=2, model=resnet18]'), 'train.fold_2.model_resnet18');
  assert.equal(instanceKey('evaluate'), 'evaluate');
});
