import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalTrackReader, LocalTrackWriter } from '../../src/tracking/local/local-tracker.ts';
import { startDashboard } from '../../src/ui/server.ts';
import { tempStore } from '../../src/testing/harness.ts';

// The table design for sweeps (issue 14.2, built by `dvc`): a parent run tagged pipeline.sweep whose
// children are pipeline runs (variants). The runs page links to the group; the group page lists the
// variants with their swept params as columns.
test('a sweep parent links to its variants, listed with the swept params as columns', async () => {
  const store = await tempStore();
  const writer = new LocalTrackWriter(store, 'sweeps');
  const t = Date.UTC(2026, 2, 1);
  await writer.apply({ op: 'create-run', ref: 'sweep-A', name: 'sweep-A', startTime: t, tags: [{ key: 'pipeline.sweep', value: 'params.lr,params.model' }] });
  const variants = [['v1', '0.001', 'resnet18', 0.81], ['v2', '0.0003', 'resnet18', 0.84], ['v3', '0.001', 'resnet34', 0.86]] as const;
  for (const [id, lr, model, auc] of variants) {
    await writer.apply({ op: 'create-run', ref: `run-${id}`, parentRef: 'sweep-A', name: `run-${id}`, startTime: t + 1000, tags: [{ key: 'pipeline.run_id', value: `run-${id}` }] });
    await writer.apply({ op: 'log-batch', ref: `run-${id}`, params: [{ key: 'params.lr', value: lr }, { key: 'params.model', value: model }, { key: 'params.size', value: '64' }], metrics: [{ key: 'evaluate/auc_macro', value: auc, timestamp: t, step: 0 }], tags: [] });
    await writer.apply({ op: 'end-run', ref: `run-${id}`, status: 'FINISHED', endTime: t + 5000 });
  }
  await writer.apply({ op: 'create-run', ref: 'lonely', name: 'lonely', startTime: t - 1000, tags: [] });
  await writer.close(); // the local writer batches its saves; close writes them
  const dashboard = await startDashboard({ reader: new LocalTrackReader(store), port: 0 });
  try {
    const top = await (await fetch(`${dashboard.url}/`)).text();
    const names = [...top.matchAll(/<tr data-run="([^"]+)">/g)].map((m) => m[1]);
    assert.deepEqual(names, ['sweep-A', 'lonely'], 'variants are not top-level rows');
    assert.match(top, /<a class="group" href="\/\?group=sweep-A">3 variants<\/a>/);
    const group = await (await fetch(`${dashboard.url}/?group=sweep-A&sort=metric:evaluate/auc_macro&dir=desc`)).text();
    assert.deepEqual([...group.matchAll(/<tr data-run="([^"]+)">/g)].map((m) => m[1]), ['run-v3', 'run-v2', 'run-v1']);
    const heads = [...group.matchAll(/<th class="param"><a [^>]*>([^<]+)<\/a><\/th>/g)].map((m) => m[1]);
    assert.deepEqual(heads, ['params.lr', 'params.model'], 'the swept params are the columns; params.size is equal everywhere');
    assert.match(group, /Variants of <a href="\/compare\?id=sweep-A">sweep-A<\/a>/);
    assert.equal((group.match(/<path d="[^"]+" fill="none" stroke="[^"]+" stroke-width="1.6" stroke-opacity="0.85" data-run=/g) ?? []).length, 3, 'parallel coordinates of the 3 variants');
  } finally {
    await dashboard.close();
  }
});
