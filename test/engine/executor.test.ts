import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workspace } from '../support/workspace.ts';

/** Intervals [start, end] per instance from the sleep stage's log. */
async function intervals(lines: string[]) {
  const map = new Map<string, { start: number; end: number }>();
  for (const line of lines) {
    const [what, id, t] = line.split(' ');
    const entry = map.get(id) ?? { start: 0, end: 0 };
    entry[what as 'start' | 'end'] = Number(t);
    map.set(id, entry);
  }
  return map;
}

function maxOverlap(spans: Array<{ start: number; end: number }>): number {
  const points = spans.flatMap((s) => [[s.start, 1], [s.end, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of points) max = Math.max(max, (cur += d));
  return max;
}

test('independent stages overlap, and no more than --concurrency run at once', async () => {
  const ws = await workspace(`
stages:
  a: { uses: $FIXTURES/sleep.ts, with: { ms: 400, log: t.log } }
  b: { uses: $FIXTURES/sleep.ts, with: { ms: 401, log: t.log } }
  c: { uses: $FIXTURES/sleep.ts, with: { ms: 402, log: t.log } }
  d: { uses: $FIXTURES/sleep.ts, with: { ms: 403, log: t.log } }
`);
  const run = await ws.run({ concurrency: 2 });
  assert.equal(run.status, 'succeeded');
  const spans = [...(await intervals(await ws.lines('t.log'))).values()];
  assert.equal(spans.length, 4);
  // The stages' own start/end times, not the wall clock (which a loaded machine stretches).
  assert.equal(maxOverlap(spans), 2, 'two at a time: overlapping, and bounded by the concurrency');
});

test('foreach fans out to instances; a downstream stage receives all of them, or its matching one', async () => {
  const ws = await workspace(`
params: { folds: 3 }
stages:
  train: { uses: $FIXTURES/sleep.ts, foreach: { fold: "range(\${params.folds})" }, with: { ms: 10, log: t.log } }
  per_fold: { uses: $FIXTURES/sleep.ts, from: train, foreach: { fold: [0, 1, 2] }, with: { ms: 10, log: t.log } }
  all: { uses: $FIXTURES/sleep.ts, from: train, with: { ms: 10, log: t.log } }
`);
  const run = await ws.run();
  assert.deepEqual(Object.keys(run.byId).sort(), ['all', 'per_fold[fold=0]', 'per_fold[fold=1]', 'per_fold[fold=2]', 'train[fold=0]', 'train[fold=1]', 'train[fold=2]']);
  const { loadExperiment } = await import('../../src/experiment/load.ts');
  const exp = await loadExperiment(ws.file);
  const inputsOf = (id: string) => exp.instances.find((i) => i.id === id)!.inputs.map((i) => i.instance);
  assert.deepEqual(inputsOf('all'), ['train[fold=0]', 'train[fold=1]', 'train[fold=2]']);
  assert.deepEqual(inputsOf('per_fold[fold=1]'), ['train[fold=1]']);
});

test('a failure skips what depends on it and stops new work; --keep-going runs the independent rest', async () => {
  const yaml = `
stages:
  bad: { uses: $FIXTURES/sleep.ts, with: { ms: 10, log: t.log, fail: true } }
  after_bad: { uses: $FIXTURES/sleep.ts, from: bad, with: { ms: 10, log: t.log } }
  slow: { uses: $FIXTURES/sleep.ts, with: { ms: 300, log: t.log } }
  after_slow: { uses: $FIXTURES/sleep.ts, from: slow, with: { ms: 10, log: t.log } }
`;
  const ws = await workspace(yaml);
  const run = await ws.run({ concurrency: 2 });
  assert.equal(run.status, 'failed');
  assert.equal(run.byId.bad.status, 'failed');
  assert.match(run.byId.bad.error!, /bad failed on purpose/);
  assert.equal(run.byId.after_bad.status, 'skipped');
  assert.equal(run.byId.slow.status, 'ran', 'already running work finishes');
  assert.equal(run.byId.after_slow.status, 'skipped', 'no new work after a failure');

  const ws2 = await workspace(yaml);
  const kg = await ws2.run({ concurrency: 2, keepGoing: true });
  assert.equal(kg.status, 'failed');
  assert.equal(kg.byId.after_slow.status, 'ran');
  assert.equal(kg.byId.after_bad.status, 'skipped');
});

test('cancellation through the signal marks running and pending work cancelled', async () => {
  const ws = await workspace(`
stages:
  a: { uses: $FIXTURES/sleep.ts, with: { ms: 5000, log: t.log } }
  b: { uses: $FIXTURES/sleep.ts, from: a, with: { ms: 10, log: t.log } }
`);
  const { FsStore } = await import('../../src/store/fs-store.ts');
  const { loadExperiment } = await import('../../src/experiment/load.ts');
  const { runLoaded } = await import('../../src/engine/runner.ts');
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('interrupted')), 200);
  const started = Date.now();
  const result = await runLoaded(await loadExperiment(ws.file), await FsStore.open(ws.storeDir), { signal: controller.signal, concurrency: 2 });
  assert.ok(Date.now() - started < 3000);
  assert.equal(result.status, 'cancelled');
  assert.deepEqual(result.instances.map((i) => i.status), ['cancelled', 'cancelled']);
});
