import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threadId } from 'node:worker_threads';
import { workspace } from '../support/workspace.ts';
import { FsStore } from '../../src/store/fs-store.ts';
import { loadArtifact, readRows } from '../../src/engine/artifact.ts';

test('stages with isolate: worker run in their own threads, with events, item cache and errors forwarded', async () => {
  const ws = await workspace(`
stages:
  a: { uses: $FIXTURES/in-worker.ts, with: { n: 3, spin_ms: 300 } }
  b: { uses: $FIXTURES/in-worker.ts, with: { n: 4, spin_ms: 300 } }
`);
  const run = await ws.run({ concurrency: 2 });
  assert.equal(run.status, 'succeeded');
  const store = await FsStore.open(ws.storeDir);
  const threads: number[] = [];
  for (const id of ['a', 'b']) {
    const rows = await readRows<{ sq: number; thread: number }>(store, (await loadArtifact(store, run.byId[id].artifact!))!);
    assert.deepEqual(rows.map((r) => r.sq), id === 'a' ? [0, 1, 4] : [0, 1, 4, 9]);
    threads.push(rows[0].thread);
  }
  assert.ok(threads.every((t) => t !== threadId && t > 0), `ran in worker threads ${threads}`);
  assert.notEqual(threads[0], threads[1]);
  assert.ok(run.events.some((e) => e.type === 'log' && e.instance === 'a' && e.message === `hello from thread ${threads[0]}`));
  assert.ok(run.events.some((e) => e.type === 'metric' && e.instance === 'b' && e.name === 'squares' && e.value === 4));
  const end = run.events.find((e) => e.type === 'instance-end' && e.instance === 'b');
  assert.deepEqual(end?.type === 'instance-end' && end.items, { done: 4, total: 4, cached: 0, failed: 0 });

  const again = await ws.run();
  assert.deepEqual([again.byId.a.status, again.byId.b.status], ['cached', 'cached']);

  await ws.write(`
stages:
  a: { uses: $FIXTURES/in-worker.ts, with: { n: 3, fail: true } }
`);
  const failed = await ws.run();
  assert.equal(failed.byId.a.status, 'failed');
  assert.match(failed.byId.a.error!, /^stage a \(.*in-worker\.ts\): bad input in the worker \(hint: fix it\)$/);
});

test('what a stage throws is reported as text, never "[object Object]": in the process and in a worker thread', async () => {
  const { thrown } = await import('../engine/fixtures/throws.ts');
  const expected = { exception: 'buffer overrun', object: '{"code":7}', string: 'codec said no', number: 'number thrown: 5242880' };
  const ws = await workspace(`
stages:
${Object.keys(thrown).map((k) => `  ${k}: { uses: $FIXTURES/throws.ts, with: { value: ${k} } }`).join('\n')}
  worker: { uses: $FIXTURES/in-worker.ts, with: { n: 1, throw_object: true } }
`);
  const run = await ws.run({ keepGoing: true });
  for (const [k, text] of Object.entries(expected)) assert.match(run.byId[k].error!, new RegExp(`^stage ${k} \\(.*throws\\.ts\\): ${text.replace(/[{}"]/g, '.')}$`), k);
  assert.match(run.byId.worker.error!, /^stage worker \(.*in-worker\.ts\): thrown as an object in the worker$/);
});
