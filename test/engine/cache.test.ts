import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { workspace } from '../support/workspace.ts';

const chain = (n: number, extra = '') => `
name: chain
stages:
  source: { uses: $FIXTURES/source.ts, with: { n: ${n}${extra} } }
  double: { uses: $FIXTURES/count.ts, from: source, with: { log: processed.log } }
`;

test('a second run is fully cached and a param change reruns the stage and what depends on it, with reasons', async () => {
  const ws = await workspace(chain(5));
  const first = await ws.run();
  assert.equal(first.status, 'succeeded');
  assert.deepEqual([first.byId.source.status, first.byId.double.status], ['ran', 'ran']);
  assert.deepEqual(await ws.plan(), { source: { action: 'cached', reasons: [] }, double: { action: 'cached', reasons: [] } });
  const second = await ws.run();
  assert.deepEqual([second.byId.source.status, second.byId.double.status], ['cached', 'cached']);
  assert.equal((await ws.lines('processed.log')).length, 5);

  await ws.write(chain(6));
  const plan = await ws.plan();
  assert.deepEqual(plan.source, { action: 'run', reasons: ['param with.n changed 5 -> 6'] });
  assert.equal(plan.double.action, 'run');
  assert.match(plan.double.reasons[0], /input source will run/);
  const third = await ws.run();
  assert.deepEqual([third.byId.source.status, third.byId.double.status], ['ran', 'ran']);
  // Per-item cache: only the new item was processed. (The first run's items run concurrently: their
  // order in the log is the order they finished in.)
  const lines = await ws.lines('processed.log');
  assert.deepEqual(lines.slice(0, 5).sort(), ['item0', 'item1', 'item2', 'item3', 'item4']);
  assert.deepEqual(lines.slice(5), ['item5']);
});

test('early cutoff: an upstream rerun with byte-identical output leaves downstream cached', async () => {
  const ws = await workspace(chain(4, ', note: a'));
  await ws.run();
  await ws.write(chain(4, ', note: b'));
  const run = await ws.run();
  assert.equal(run.byId.source.status, 'ran');
  assert.equal(run.byId.double.status, 'cached');
});

test('per-item cache: 10 new items out of 1,000 process 10', async () => {
  const ws = await workspace(chain(1000));
  await ws.run();
  assert.equal((await ws.lines('processed.log')).length, 1000);
  await ws.write(chain(1010));
  const run = await ws.run();
  assert.equal(run.byId.double.status, 'ran');
  const lines = await ws.lines('processed.log');
  assert.equal(lines.length, 1010);
  assert.deepEqual(lines.slice(1000).sort(), Array.from({ length: 10 }, (_, i) => `item${1000 + i}`).sort());
  const end = run.events.find((e) => e.type === 'instance-end' && e.instance === 'double');
  assert.deepEqual(end?.type === 'instance-end' && end.items, { done: 1010, total: 1010, cached: 1000, failed: 0 });
});

test('--force reruns a cached stage; --from reruns it and everything downstream', async () => {
  const ws = await workspace(chain(3));
  await ws.run();
  const forced = await ws.plan({ force: ['source'] });
  assert.deepEqual(forced.source, { action: 'run', reasons: ['forced'] });
  const r1 = await ws.run({ force: ['source'] });
  assert.deepEqual([r1.byId.source.status, r1.byId.double.status], ['ran', 'cached']);
  assert.equal((await ws.lines('processed.log')).length, 3);
  const r2 = await ws.run({ from: ['source'] });
  assert.deepEqual([r2.byId.source.status, r2.byId.double.status], ['ran', 'ran']);
  // A forced stage recomputes its items too.
  assert.equal((await ws.lines('processed.log')).length, 6);
  const r3 = await ws.run({ only: ['source'] });
  assert.deepEqual(Object.keys(r3.byId), ['source']);
});

test('external input files are keyed by content: touching keeps the cache, editing reruns', async () => {
  const ws = await workspace(`
stages:
  read: { uses: $FIXTURES/read-file.ts, with: { file: data.txt } }
`, { 'data.txt': 'v1' });
  assert.equal((await ws.run()).byId.read.status, 'ran');
  await writeFile(join(ws.dir, 'data.txt'), 'v1');
  assert.equal((await ws.run()).byId.read.status, 'cached');
  await writeFile(join(ws.dir, 'data.txt'), 'v2');
  assert.deepEqual((await ws.plan()).read, { action: 'run', reasons: ['file content of with.file changed'] });
  assert.equal((await ws.run()).byId.read.status, 'ran');
});

test('item failures: skip records and counts them without caching; fail fails the stage', async () => {
  const ws = await workspace(`
stages:
  source: { uses: $FIXTURES/source.ts, with: { n: 4 } }
  double: { uses: $FIXTURES/count.ts, from: source, with: { log: p.log, fail_on: item2, on_error: skip } }
`);
  const run = await ws.run();
  assert.equal(run.byId.double.status, 'ran');
  const end = run.events.find((e) => e.type === 'instance-end' && e.instance === 'double');
  assert.equal(end?.type === 'instance-end' && end.items?.failed, 1);
  assert.ok(run.events.some((e) => e.type === 'log' && e.level === 'warn' && e.message.includes('item2') && e.message.includes('cannot process item2')));
  await ws.write(`
stages:
  source: { uses: $FIXTURES/source.ts, with: { n: 4 } }
  double: { uses: $FIXTURES/count.ts, from: source, with: { log: p.log, fail_on: item2, on_error: fail } }
`);
  const failed = await ws.run();
  assert.equal(failed.status, 'failed');
  assert.match(failed.byId.double.error ?? '', /stage double .*item item2: cannot process item2/);
});
