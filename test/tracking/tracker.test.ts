import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/tracking/index.ts';
import { LocalTrackReader } from '../../src/tracking/local/local-tracker.ts';
import { replayBuffers, bufferedCounts, TRACKING_BUFFER } from '../../src/tracking/mlflow/buffer.ts';
import { mlflowClient } from '../../src/tracking/connection.ts';
import { tempStore } from '../../src/testing/harness.ts';
import type { Store } from '../../src/store/store.ts';
import { MlflowDouble } from '../support/mlflow-double.ts';
import { emitFakeRun } from '../support/tracking-fixture.ts';
import { assertNoPhi } from '../support/no-phi.ts';

const double = await new MlflowDouble().start();
after(() => double.stop());

function tracker(store: Store, logs: string[], config: Record<string, unknown> = {}, uri: string | null = double.url) {
  return createTracker({
    config: { experiment: 'tracker-test', timeout_ms: 1000, retries: 1, ...config },
    store,
    experimentName: 'demo',
    experimentFile: 'experiments/demo.yaml',
    gitCommit: 'abc123',
    log: (level, message) => logs.push(`${level}: ${message}`),
    env: uri ? { MLFLOW_TRACKING_URI: uri } : {},
    backoffMs: 5,
  });
}

const byName = (name: string, parentId?: string) => [...double.runs.values()].find((r) => r.info.run_name === name && (parentId === undefined || r.tags.get('mlflow.parentRunId') === parentId));

test('MLflow: parent run, nested child runs, flattened params, per-epoch and final metrics, reports, cached tag', async () => {
  const store = await tempStore();
  const logs: string[] = [];
  const sink = await tracker(store, logs);
  await emitFakeRun(sink, store, { runId: 'run-A', auc: 0.81, lr: 0.001, trainParams: { note: 'n'.repeat(700) } });
  await sink.close?.();
  const parent = byName('run-A')!;
  assert.ok(parent, 'parent run created');
  assert.equal(parent.info.status, 'FINISHED');
  assert.equal(parent.tags.get('mlflow.source.git.commit'), 'abc123');
  assert.equal(parent.tags.get('pipeline.experiment_file'), 'experiments/demo.yaml');
  assert.equal(parent.params.get('params.size'), '64');
  assert.equal(parent.params.get('train.lr'), '0.001');
  const children = [...double.runs.values()].filter((r) => r.tags.get('mlflow.parentRunId') === parent.info.run_id);
  assert.deepEqual(children.map((c) => c.info.run_name).sort(), ['evaluate', 'ingest', 'train[fold=0]', 'train[fold=1]']);
  const train1 = byName('train[fold=1]', parent.info.run_id)!;
  assert.equal(train1.params.get('with.lr'), '0.001');
  assert.equal(train1.params.get('with.augment.flip'), 'true');
  assert.equal(train1.params.get('with.fold'), '1');
  assert.equal(train1.params.get('with.note')?.length, 500, 'long value shortened to the limit');
  assert.ok(logs.some((l) => /warn: tracking: param value of with.note shortened from 700 to 500/.test(l)), logs.join('\n'));
  assert.equal(train1.tags.get('pipeline.cache_key'), '1'.repeat(64));
  assert.equal(train1.tags.get('pipeline.ml_backend'), 'wasm');
  assert.equal(train1.tags.get('pipeline.cached'), 'false');
  assert.equal(byName('ingest', parent.info.run_id)!.tags.get('pipeline.cached'), 'true');
  const valAuc = train1.metrics.filter((m) => m.key === 'val_auc');
  assert.deepEqual(valAuc.map((m) => m.step), [0, 1, 2, 3], 'three epochs, then the final (best-checkpoint) value one step after the last');
  assert.equal(valAuc.at(-1)!.value, 0.8);
  const evaluate = byName('evaluate', parent.info.run_id)!;
  const root = evaluate.info.artifact_uri.replace('mlflow-artifacts:/', '');
  assert.deepEqual([...double.artifacts.keys()].filter((k) => k.startsWith(root)).map((k) => k.slice(root.length + 1)).sort(), ['gradcam/img1.png', 'plots/roc.svg', 'report.html', 'report.json']);
  assert.equal(parent.metrics.find((m) => m.key === 'evaluate/auc_macro')?.value, 0.81);
  assert.equal(parent.metrics.find((m) => m.key === 'train.fold_1/val_auc')?.value, 0.8);
  assert.ok(children.every((c) => c.info.status === 'FINISHED' && typeof c.info.end_time === 'number'));
  assert.ok(double.count('runs/create') >= 5);
  assert.equal(await bufferedCounts(store).then((c) => Object.keys(c).length), 0, 'nothing buffered');
});

test('local tracker: same model in the store, readable by the reader', async () => {
  const store = await tempStore();
  const logs: string[] = [];
  const sink = await tracker(store, logs, {}, null);
  await emitFakeRun(sink, store, { runId: 'run-L', auc: 0.77, cached: true });
  await sink.close?.();
  const reader = new LocalTrackReader(store);
  const parents = await reader.listRuns({ parentsOnly: true });
  assert.deepEqual(parents.map((r) => r.id), ['run-L']);
  assert.equal(parents[0].experiment, 'tracker-test');
  assert.equal(parents[0].status, 'FINISHED');
  assert.equal(parents[0].metrics['evaluate/auc_macro'], 0.77);
  const children = await reader.children('run-L');
  assert.deepEqual(children.map((c) => c.name), ['ingest', 'train[fold=0]', 'train[fold=1]', 'evaluate']);
  assert.equal(children[1].tags['pipeline.cached'], 'true');
  assert.equal(children[1].tags['mlflow.parentRunId'], 'run-L');
  const history = await reader.metricHistory('run-L/train[fold=0]', 'loss');
  assert.deepEqual(history.map((h) => +h.value.toFixed(3)), [0.6, 0.5, 0.4]);
  assert.deepEqual(await reader.listArtifacts('run-L/evaluate'), ['gradcam/img1.png', 'plots/roc.svg', 'report.html', 'report.json']);
  assert.match((await reader.readArtifact('run-L/evaluate', 'report.html'))!.toString(), /Report run-L/);
  assert.deepEqual(logs.filter((l) => l.startsWith('warn')), []);
});

test('server down for the whole run: the run is not blocked, events are buffered and replayed by sync', async () => {
  const store = await tempStore();
  const logs: string[] = [];
  const before = double.runs.size;
  await double.stop();
  try {
    const sink = await tracker(store, logs);
    const t0 = Date.now();
    await emitFakeRun(sink, store, { runId: 'run-DOWN', auc: 0.7 });
    assert.ok(Date.now() - t0 < 3000, 'handle() never waits for the server');
    await sink.close?.();
    assert.ok(Date.now() - t0 < 5000, `close() is bounded (${Date.now() - t0} ms)`);
  } finally {
    await double.start();
  }
  assert.ok(logs.some((l) => /unreachable.*buffering/.test(l)), logs.join('\n'));
  const counts = await bufferedCounts(store);
  assert.ok(counts[double.url] > 10, JSON.stringify(counts));
  assert.equal(double.runs.size, before);
  const result = await replayBuffers({ store, client: mlflowClient(double.url, { retries: 1, backoffMs: 5 }), log: (l, m) => logs.push(`${l}: ${m}`) });
  assert.equal(result.remaining, 0);
  assert.equal(result.dropped, 0);
  assert.equal(result.replayed, counts[double.url]);
  const parent = byName('run-DOWN')!;
  assert.equal(parent.info.status, 'FINISHED');
  assert.equal([...double.runs.values()].filter((r) => r.tags.get('mlflow.parentRunId') === parent.info.run_id).length, 4);
  assert.equal(byName('train[fold=0]', parent.info.run_id)!.metrics.filter((m) => m.key === 'loss').length, 3);
  assert.equal((await bufferedCounts(store))[double.url], undefined, 'buffer emptied');
});

test('server goes down mid-run: the rest is buffered and the next run replays it into the same runs', async () => {
  const store = await tempStore();
  const logs: string[] = [];
  const sink = await tracker(store, logs);
  // Let the first part reach the server, then take it down.
  let events = 0;
  const gate: typeof sink = {
    async handle(e) {
      sink.handle(e);
      if (++events === 3) {
        const until = Date.now() + 3000;
        while (double.count('runs/update') === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        await double.stop();
      }
    },
  };
  try {
    await emitFakeRun(gate, store, { runId: 'run-MID', auc: 0.72 });
    await sink.close?.();
  } finally {
    await double.start();
  }
  const parentBefore = byName('run-MID');
  assert.ok(parentBefore, 'parent created before the outage');
  assert.equal(parentBefore.info.status, 'RUNNING');
  assert.ok(logs.some((l) => /buffering/.test(l)));
  // The next run replays the buffer in the background before it closes.
  const next = await tracker(store, logs);
  await emitFakeRun(next, store, { runId: 'run-NEXT', auc: 0.73 });
  await next.close?.();
  const parents = [...double.runs.values()].filter((r) => r.info.run_name === 'run-MID');
  assert.equal(parents.length, 1, 'no duplicate parent run');
  assert.equal(parents[0].info.status, 'FINISHED');
  assert.deepEqual([...double.runs.values()].filter((r) => r.tags.get('mlflow.parentRunId') === parents[0].info.run_id).map((r) => r.info.run_name).sort(), ['evaluate', 'ingest', 'train[fold=0]', 'train[fold=1]']);
  assert.equal(byName('run-NEXT')?.info.status, 'FINISHED');
  let buffers = 0;
  for await (const _ of store.listDocIds(TRACKING_BUFFER)) buffers++;
  assert.equal(buffers, 0);
});

test('slow server: close() returns within flush_timeout_ms and buffers what is left', async () => {
  const store = await tempStore();
  const logs: string[] = [];
  const sink = await tracker(store, logs, { timeout_ms: 5000, retries: 0, flush_timeout_ms: 400 });
  double.delayMs = 3000;
  const t0 = Date.now();
  try {
    await emitFakeRun(sink, store, { runId: 'run-SLOW', auc: 0.7 });
    // ~25 operations at 3 s each would take over a minute if handle() waited for the server.
    assert.ok(Date.now() - t0 < 2000, `events handled in ${Date.now() - t0} ms`);
    await sink.close?.();
  } finally {
    double.delayMs = 0;
  }
  const took = Date.now() - t0;
  assert.ok(took < 2800, `run + close took ${took} ms; one answer takes 3000 ms`);
  assert.ok(logs.some((l) => /too slow/.test(l)), logs.join('\n'));
  assert.ok(((await bufferedCounts(store))[double.url] ?? 0) > 10);
});

test('no PHI: the helper catches a leak, and a run with pseudonymised data leaks nothing', async () => {
  const phi = ['DOE^JANE', 'PAT-0042-SECRET', '19450101'];
  const leakyStore = await tempStore();
  const leaky = new MlflowDouble();
  await leaky.start();
  try {
    const sink = await createTracker({ config: { experiment: 'phi' }, store: leakyStore, experimentName: 'phi', experimentFile: 'x.yaml', log: () => {}, env: { MLFLOW_TRACKING_URI: leaky.url } });
    await emitFakeRun(sink, leakyStore, { runId: 'run-LEAK', auc: 0.7, trainParams: { patient_hint: 'DOE^JANE' } });
    await sink.close?.();
    await assert.rejects(assertNoPhi(phi, { double: leaky }), /PHI string #1/);
    const local = await tempStore();
    const localSink = await createTracker({ store: local, experimentName: 'phi', experimentFile: 'x.yaml', log: () => {}, env: {} });
    await emitFakeRun(localSink, local, { runId: 'run-LEAK2', auc: 0.7, trainParams: { patient_hint: 'pat-0042-secret' } });
    await localSink.close?.();
    await assert.rejects(assertNoPhi(phi, { store: local }), /PHI string #2 .* in tracking-runs/);
    const clean = new MlflowDouble();
    await clean.start();
    try {
      const cleanStore = await tempStore();
      const s = await createTracker({ store: cleanStore, experimentName: 'phi', experimentFile: 'x.yaml', log: () => {}, env: { MLFLOW_TRACKING_URI: clean.url } });
      // The run holds the PHI (original DICOM in the store, log lines), with pseudonymised rows.
      await emitFakeRun(s, cleanStore, { runId: 'run-CLEAN', auc: 0.7, phi: { name: phi[0], id: phi[1], birthDate: phi[2] } });
      await s.close?.();
      const blobs: string[] = [];
      for await (const digest of cleanStore.listBlobs()) blobs.push((await cleanStore.getBlob(digest)).toString('latin1'));
      assert.ok(phi.every((p) => blobs.some((b) => b.includes(p))), 'the PHI is in the run (the original DICOM header)');
      await assertNoPhi(phi, { double: clean, store: cleanStore });
      assert.ok(clean.received.length > 10);
    } finally {
      await clean.stop();
    }
  } finally {
    await leaky.stop();
  }
});

test('a bad tracking URI or a broken store never throws into the engine', async () => {
  const store = await tempStore();
  const logs: string[] = [];
  const sink = await tracker(store, logs, {}, 'file:///tmp/mlruns');
  sink.handle({ type: 'run-end', runId: 'x', status: 'succeeded', durationMs: 1, time: 1 });
  await sink.close?.();
  assert.ok(logs.some((l) => /tracking disabled for this run: tracking URI file:\/\/\/tmp\/mlruns is not an http/.test(l)), logs.join('\n'));
  const broken = Object.create(store, { putDoc: { value: async () => { throw new Error('disk full'); } } }) as Store;
  const logs2: string[] = [];
  const local = await tracker(broken, logs2, {}, null);
  await emitFakeRun(local, store, { runId: 'run-BROKEN', auc: 0.7, folds: 1 });
  // Past the writer's batching delay: the failed background write must not become an unhandled rejection.
  await new Promise((resolve) => setTimeout(resolve, 600));
  await local.close?.();
  // Writes are batched (one per run and burst), so the failure is reported by a later operation or at close, naming the run.
  assert.ok(logs2.some((l) => /warn: tracking: .*writing run run-BROKEN to the store failed: disk full/.test(l)), logs2.join('\n'));
});

test('user:password@ in the tracking URI: sent as Basic auth, never logged or stored, buffers replayed to the same server', async () => {
  const secret = 's3cret@PW:x';
  const authed = await new MlflowDouble().start();
  authed.requireAuthorization = `Basic ${Buffer.from(`alice:${secret}`).toString('base64')}`;
  const uri = authed.url.replace('http://', `http://alice:${encodeURIComponent(secret)}@`);
  const leaks = (text: string) => text.includes('s3cret') || text.includes(encodeURIComponent(secret));
  try {
    const store = await tempStore();
    const logs: string[] = [];
    const sink = await tracker(store, logs, {}, uri);
    await emitFakeRun(sink, store, { runId: 'run-AUTH', auc: 0.8, folds: 1 });
    await sink.close?.();
    assert.ok(authed.runByName('run-AUTH'), `the authenticated server got the run: ${logs.join('\n')}`);
    assert.ok(authed.received.length > 0 && authed.received.every((r) => r.authorization === authed.requireAuthorization));
    assert.ok(logs.some((l) => l.includes(`tracking to MLflow at ${authed.url}`)), logs.join('\n'));

    await authed.stop();
    const down: string[] = [];
    try {
      const offline = await tracker(store, down, {}, uri);
      await emitFakeRun(offline, store, { runId: 'run-AUTH-DOWN', auc: 0.7, folds: 1 });
      await offline.close?.();
    } finally {
      await authed.start();
    }
    assert.ok(down.some((l) => /unreachable.*buffering/.test(l)), down.join('\n'));
    const counts = await bufferedCounts(store);
    assert.deepEqual(Object.keys(counts), [authed.url]);
    for await (const id of store.listDocIds(TRACKING_BUFFER)) assert.ok(!leaks(JSON.stringify(await store.getDoc(TRACKING_BUFFER, id))), 'buffer holds no password');
    const replayed = await replayBuffers({ store, client: mlflowClient(uri, { retries: 1, backoffMs: 5 }), log: (l, m) => down.push(`${l}: ${m}`) });
    assert.equal(replayed.remaining, 0);
    assert.ok(authed.runByName('run-AUTH-DOWN'));
    assert.ok(![...logs, ...down].some(leaks), [...logs, ...down].join('\n'));

    // A buffer written before user info was stripped loses it when replay rewrites it (server down again).
    await authed.stop();
    const legacy = await tempStore();
    try {
      const sink = await tracker(legacy, [], {}, uri);
      await emitFakeRun(sink, legacy, { runId: 'run-LEGACY', auc: 0.7, folds: 1 });
      await sink.close?.();
      const ids: string[] = [];
      for await (const doc of legacy.listDocIds(TRACKING_BUFFER)) ids.push(doc);
      const [id] = ids;
      await legacy.putDoc(TRACKING_BUFFER, id, { ...(await legacy.getDoc<object>(TRACKING_BUFFER, id)), uri });
      const stillDown = await replayBuffers({ store: legacy, client: mlflowClient(uri, { retries: 0, backoffMs: 1 }), log: () => {} });
      assert.ok(stillDown.remaining > 0);
      assert.equal((await legacy.getDoc<{ uri: string }>(TRACKING_BUFFER, id))!.uri, authed.url);
    } finally {
      await authed.start();
    }

    const bad: string[] = [];
    const refused = await tracker(await tempStore(), bad, {}, `ftp://alice:${encodeURIComponent(secret)}@host/x`);
    await refused.close?.();
    assert.ok(bad.some((l) => /tracking disabled.*ftp:\/\/alice:\*\*\*@host/.test(l)) && !bad.some(leaks), bad.join('\n'));
  } finally {
    await authed.stop();
  }
});

test('credentials refused (401) or missing: one warning that says so, the run buffered and replayed once they are right', async () => {
  const authed = await new MlflowDouble().start();
  authed.requireAuthorization = `Basic ${Buffer.from('bob:right').toString('base64')}`;
  try {
    const store = await tempStore();
    for (const [uri, sent] of [[authed.url.replace('http://', 'http://bob:wrong@'), 'refused the Basic credentials sent'], [authed.url, 'none were sent']]) {
      const logs: string[] = [];
      const sink = await tracker(store, logs, {}, uri);
      await emitFakeRun(sink, store, { runId: `run-401-${uri === authed.url ? 'none' : 'wrong'}`, auc: 0.7, folds: 1 });
      await sink.close?.();
      const warnings = logs.filter((l) => l.startsWith('warn'));
      assert.equal(warnings.length, 1, logs.join('\n'));
      assert.match(warnings[0], new RegExp(`tracking server refused the request .*HTTP 401: the server asks for credentials and ${sent}; set MLFLOW_TRACKING_USERNAME .*; buffering`));
      assert.ok(!warnings[0].includes('wrong'));
    }
    assert.equal(authed.runs.size, 0, 'nothing was created');
    const result = await replayBuffers({ store, client: mlflowClient(authed.url, { retries: 1, backoffMs: 5 }, { MLFLOW_TRACKING_USERNAME: 'bob', MLFLOW_TRACKING_PASSWORD: 'right' }), log: () => {} });
    assert.equal(result.remaining, 0);
    assert.equal(result.dropped, 0);
    assert.ok(authed.runByName('run-401-wrong') && authed.runByName('run-401-none'));
  } finally {
    await authed.stop();
  }
});
