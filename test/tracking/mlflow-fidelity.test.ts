import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createTracker } from '../../src/tracking/index.ts';
import { sanitizeKey, isInvalidKey, flattenParams } from '../../src/tracking/keys.ts';
import { MlflowClient } from '../../src/tracking/mlflow/client.ts';
import { planBatches as clientPlan } from '../../src/tracking/mlflow/client.ts';
import { mlflowFetch } from '../../src/tracking/mlflow/http.ts';
import { MlflowReader } from '../../src/tracking/mlflow/reader.ts';
import { MlflowWriter } from '../../src/tracking/mlflow/writer.ts';
import { compareRuns } from '../../src/tracking/compare.ts';
import { mlflowClient } from '../../src/tracking/connection.ts';
import { commitArtifact } from '../../src/engine/artifact.ts';
import { startDashboard } from '../../src/ui/server.ts';
import { tempStore } from '../../src/testing/harness.ts';
import type { Store } from '../../src/store/store.ts';
import { MlflowDouble, pathNotUnique, SERVER_ARTIFACT_ROOT } from '../support/mlflow-double.ts';
import { emitFakeRun } from '../support/tracking-fixture.ts';

// Issue 11, "Tracking against a real MLflow server": one regression test per defect found there.
const double = await new MlflowDouble().start();
after(() => double.stop());
const client = () => new MlflowClient({ baseUrl: double.url, timeoutMs: 3000, retries: 3, backoffMs: 5 });
const unique = (p: string) => `${p}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

function rawRequest(method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: Number(new URL(double.url).port), method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(method === 'PUT' ? 'x' : undefined);
  });
}

async function tracked(store: Store, logs: string[], experiment: string) {
  return createTracker({
    config: { experiment, timeout_ms: 2000, retries: 1 },
    store,
    experimentName: experiment,
    experimentFile: 'experiments/demo.yaml',
    log: (level, message) => logs.push(`${level}: ${message}`),
    env: { MLFLOW_TRACKING_URI: double.url },
    backoffMs: 5,
  });
}

const runsOf = (experiment: string) => {
  const exp = [...double.experiments.values()].find((e) => e.name === experiment)!;
  return [...double.runs.values()].filter((r) => r.info.experiment_id === exp.experiment_id);
};

test('keys: sanitised exactly as MLflow validates them (trailing /, /./, //, .., characters)', () => {
  for (const raw of ['loss/', 'val/./auc', '/abs', 'a//b', '..', 'a/../b', '.', 'x/.', 'auc[No finding]/', '', 'ünïcode/', 'a:b']) {
    const key = sanitizeKey(raw);
    assert.equal(isInvalidKey(key), false, `${JSON.stringify(raw)} -> ${JSON.stringify(key)}`);
    assert.equal(pathNotUnique(key), false, `${JSON.stringify(raw)} -> ${JSON.stringify(key)} passes posixpath.normpath`);
  }
  assert.equal(sanitizeKey('loss/'), 'loss');
  assert.equal(sanitizeKey('val/./auc'), 'val/_/auc');
  // The double applies MLflow's rule itself (posixpath.normpath semantics).
  for (const bad of ['a/', 'a/./b', '/a', 'a//b', '..', '.', './', '/./']) assert.equal(pathNotUnique(bad), true, bad);
  for (const good of ['a', 'a/b/c', '.a', 'b.', 'a..a/._./o_O/.e.', 'a b/c d']) assert.equal(pathNotUnique(good), false, good);
});

test('a batch with one key the server rejects is split: everything else is logged, the bad item is reported', async () => {
  const c = client();
  const expId = await c.ensureExperiment(unique('split'));
  const run = await c.createRun({ experimentId: expId, startTime: Date.now(), runName: 'r', tags: [] });
  const metrics = Array.from({ length: 20 }, (_, i) => ({ key: i === 7 ? 'bad/' : `m${i}`, value: i, timestamp: Date.now(), step: 0 }));
  const rejected = await c.logBatchSplitting(run.run_id, { metrics, params: [{ key: 'p', value: 'v' }], tags: [{ key: 't', value: 'x' }] });
  assert.deepEqual(rejected.map((r) => [r.kind, r.key]), [['metric', 'bad/']]);
  assert.match(rejected[0].reason, /must not resolve to other names/);
  const stored = double.runs.get(run.run_id)!;
  assert.equal(new Set(stored.metrics.map((m) => m.key)).size, 19);
  assert.equal(stored.params.get('p'), 'v');
  assert.equal(stored.tags.get('t'), 'x');
  // Through the tracker: metric names that MLflow's path normalisation rejects arrive sanitised.
  const store = await tempStore();
  const logs: string[] = [];
  const experiment = unique('keys');
  const sink = await tracked(store, logs, experiment);
  sink.handle({ type: 'run-start', runId: 'run-K', experiment, file: 'x.yaml', instances: ['train'], params: {}, time: Date.now() });
  sink.handle({ type: 'instance-start', runId: 'run-K', instance: 'train', stage: 'train', uses: 'train', params: { lr: 0.1 }, cacheKey: 'k', time: Date.now() });
  for (const name of ['loss/', 'val/./auc', 'ok']) sink.handle({ type: 'metric', runId: 'run-K', instance: 'train', name, value: 0.5, step: 0, time: Date.now() });
  sink.handle({ type: 'instance-end', runId: 'run-K', instance: 'train', stage: 'train', uses: 'train', params: { lr: 0.1 }, status: 'ran', cacheKey: 'k', durationMs: 1, time: Date.now() });
  sink.handle({ type: 'run-end', runId: 'run-K', status: 'succeeded', durationMs: 1, time: Date.now() });
  await sink.close?.();
  const child = runsOf(experiment).find((r) => r.info.run_name === 'train')!;
  assert.deepEqual([...new Set(child.metrics.map((m) => m.key))].sort(), ['loss', 'ok', 'val/_/auc']);
  assert.deepEqual(logs.filter((l) => /rejected/.test(l)), []);
});

test('a missing artifact (MLflow 2.x: 500 with an HTML page) is "not found": no retries, no server path shown', async () => {
  const c = client();
  const expId = await c.ensureExperiment(unique('missing'));
  const run = await c.createRun({ experimentId: expId, startTime: Date.now(), runName: 'r', tags: [] });
  await c.uploadArtifact(run.artifact_uri, 'plots/roc.svg', Buffer.from('<svg/>'));
  const raw = await fetch(`${double.url}/api/2.0/mlflow-artifacts/artifacts/${run.artifact_uri.replace('mlflow-artifacts:/', '')}/report.json`);
  assert.equal(raw.status, 500, 'the double answers what the real server answers');
  assert.match(await raw.text(), new RegExp(SERVER_ARTIFACT_ROOT));
  const before = double.received.length;
  assert.equal(await c.downloadArtifact(run.artifact_uri, 'report.json'), undefined);
  assert.equal(await c.downloadArtifact(run.artifact_uri, 'plots/other.svg'), undefined);
  const sent = double.received.slice(before).map((r) => r.method);
  assert.deepEqual(sent, ['GET', 'GET', 'GET', 'GET'], 'one download and one folder listing each, no retry storm');
  assert.equal((await c.downloadArtifact(run.artifact_uri, 'plots/roc.svg'))?.toString(), '<svg/>');
  // The dashboard answers 404 with its own page, never the server's.
  const dashboard = await startDashboard({ reader: new MlflowReader(c), port: 0 });
  try {
    const res = await fetch(`${dashboard.url}/artifact?run=${run.run_id}&path=report.json`);
    assert.equal(res.status, 404);
    const page = await res.text();
    assert.doesNotMatch(page, /srv\/mlflow|Internal Server Error|Errno/);
  } finally {
    await dashboard.close();
  }
  // Any error text from the server that names a local path is redacted.
  const traversal = await rawRequest('GET', '/api/2.0/mlflow-artifacts/artifacts/x/../y');
  assert.equal(traversal.status, 400);
  assert.match(traversal.body, /INVALID_PARAMETER_VALUE.*Invalid path/);
});

test('search filters quote values as MLflow reads them: apostrophes and both quote kinds', async () => {
  const c = client();
  const experiment = unique('quotes');
  const expId = await c.ensureExperiment(experiment);
  const values = ["o'brien", 'say "hi"', `both ' and "`, 'plain'];
  for (const v of values) await c.createRun({ experimentId: expId, startTime: Date.now(), runName: v, tags: [{ key: 'pipeline.run_id', value: v }] });
  // What the client used to send matches nothing on MLflow 2.x (no escape processing).
  assert.equal((await c.searchRuns({ experiment_ids: [expId], filter: "tags.`pipeline.run_id` = 'o\\'brien'" })).length, 0);
  const reader = new MlflowReader(c);
  for (const v of values) {
    const found = await reader.listRuns({ experiment, tag: { key: 'pipeline.run_id', value: v } });
    assert.deepEqual(found.map((r) => r.name), [v], v);
  }
  // Replay deduplication finds a run whose ref has an apostrophe instead of creating a duplicate.
  const store = await tempStore();
  const writer = new MlflowWriter({ client: c, store, experiment, dedupeCreates: true });
  await c.createRun({ experimentId: expId, startTime: Date.now(), runName: "run-o'x", tags: [{ key: 'pipeline.ref', value: "run-o'x" }] });
  const n = double.runs.size;
  await writer.apply({ op: 'create-run', ref: "run-o'x", name: "run-o'x", startTime: Date.now(), tags: [] });
  assert.equal(double.runs.size, n, 'no duplicate run');
});

test('NaN/Infinity final metrics are dropped with the documented warning', async () => {
  const store = await tempStore();
  const logs: string[] = [];
  const experiment = unique('nan');
  const sink = await tracked(store, logs, experiment);
  const artifact = await commitArtifact(store, { kind: 'model', files: { 'model.json': '{}' }, meta: { metrics: { good: 0.5, bad: NaN, huge: Infinity } } });
  sink.handle({ type: 'run-start', runId: 'run-N', experiment, file: 'x.yaml', instances: ['train'], params: {}, time: Date.now() });
  sink.handle({ type: 'instance-end', runId: 'run-N', instance: 'train', stage: 'train', uses: 'train', params: {}, status: 'ran', cacheKey: 'k', artifact: artifact.digest, durationMs: 1, time: Date.now() });
  sink.handle({ type: 'run-end', runId: 'run-N', status: 'succeeded', durationMs: 1, time: Date.now() });
  await sink.close?.();
  const warned = logs.filter((l) => /MLflow stores only finite numbers, not logged/.test(l));
  assert.equal(warned.length, 2, logs.join('\n'));
  assert.ok(warned.some((l) => /metric bad of train is NaN/.test(l)));
  assert.ok(warned.some((l) => /metric huge of train is (Infinity|NaN)/.test(l)));
  const child = runsOf(experiment).find((r) => r.info.run_name === 'train')!;
  assert.deepEqual(child.metrics.map((m) => m.key), ['good']);
});

test('instance-varying params (train.fold) only on child runs: a run and its cached rerun compare equal', async () => {
  const store = await tempStore();
  const logs: string[] = [];
  const experiment = unique('fold');
  for (const [runId, cached] of [['run-F1', false], ['run-F2', true]] as const) {
    const sink = await tracked(store, logs, experiment);
    await emitFakeRun(sink, store, { runId, auc: 0.8, folds: 3, cached });
    await sink.close?.();
  }
  const parents = runsOf(experiment).filter((r) => !r.tags.get('mlflow.parentRunId'));
  for (const p of parents) {
    assert.equal(p.params.get('train.fold'), undefined, 'fold varies across instances');
    assert.equal(p.params.get('train.lr'), '0.001', 'common params stay on the parent');
    assert.equal(p.params.get('train.augment.flip'), 'true');
  }
  const children = runsOf(experiment).filter((r) => r.info.run_name.startsWith('train['));
  assert.deepEqual(children.map((c) => c.params.get('with.fold')).sort(), ['0', '0', '1', '1', '2', '2']);
  const reader = new MlflowReader(mlflowClient(double.url));
  const tracked2 = await reader.listRuns({ experiment, parentsOnly: true });
  assert.deepEqual(compareRuns(tracked2).params, [], 'no false param difference between a run and its cached rerun');
});

test('parent: pipeline.status, mlflow.user, no params={}; finals never give two values at one step; cached reports uploaded once', async () => {
  const store = await tempStore();
  const logs: string[] = [];
  const experiment = unique('parent');
  // A run with no experiment params.
  const sink = await tracked(store, logs, experiment);
  sink.handle({ type: 'run-start', runId: 'run-P0', experiment, file: 'x.yaml', instances: [], params: {}, time: Date.now() });
  sink.handle({ type: 'run-end', runId: 'run-P0', status: 'failed', durationMs: 1, time: Date.now() });
  await sink.close?.();
  const empty = runsOf(experiment).find((r) => r.info.run_name === 'run-P0')!;
  assert.deepEqual([...empty.params.keys()], [], 'no "params" = "{}" param');
  assert.equal(empty.tags.get('pipeline.status'), 'failed');
  assert.ok(empty.tags.get('mlflow.user'), 'mlflow.user set like the MLflow client does');
  assert.deepEqual(flattenParams({}, 'params'), {});
  assert.deepEqual(flattenParams({ crop: {} }, 'with'), { 'with.crop': '{}' });

  const putsBefore = double.received.filter((r) => r.method === 'PUT').length;
  for (const [runId, cached] of [['run-P1', false], ['run-P2', true], ['run-P3', true]] as const) {
    const s = await tracked(store, logs, experiment);
    await emitFakeRun(s, store, { runId, auc: 0.8, cached, reportLabel: 'run-P1' });
    await s.close?.();
  }
  const parent = runsOf(experiment).find((r) => r.info.run_name === 'run-P1')!;
  assert.equal(parent.tags.get('pipeline.status'), 'succeeded');
  assert.ok(parent.tags.get('mlflow.user'));
  for (const run of runsOf(experiment)) {
    const seen = new Map<string, number>();
    for (const m of run.metrics) {
      const id = `${m.key}@${m.step}`;
      if (seen.has(id)) assert.equal(seen.get(id), m.value, `${run.info.run_name}: ${id} logged twice with different values`);
      seen.set(id, m.value);
    }
  }
  // The same report artifact (same digest) is uploaded by the first run only; later runs link to it.
  const puts = double.received.filter((r) => r.method === 'PUT').length - putsBefore;
  assert.equal(puts, 4, 'report.json, report.html, plots/roc.svg, gradcam/img1.png once');
  const reader = new MlflowReader(mlflowClient(double.url));
  const p3 = (await reader.listRuns({ experiment, parentsOnly: true })).find((r) => r.name === 'run-P3')!;
  const evaluate = (await reader.children(p3.id)).find((c) => c.name === 'evaluate')!;
  assert.deepEqual(await reader.listArtifacts(evaluate.id), ['gradcam/img1.png', 'plots/roc.svg', 'report.html', 'report.json']);
  assert.match((await reader.readArtifact(evaluate.id, 'report.html'))!.toString(), /Report run-P1/);
});

test('the double rejects what MLflow 2.x rejects', async () => {
  const c = client();
  const expId = await c.ensureExperiment(unique('strict'));
  const run = await c.createRun({ experimentId: expId, startTime: Date.now(), runName: 'r', tags: [] });
  const post = (body: Record<string, unknown>) => mlflowFetch({ ...c.http, retries: 0 }, { method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', json: { run_id: run.run_id, ...body } });
  const m = (extra: Record<string, unknown>) => ({ key: 'm', value: 1, timestamp: Date.now(), step: 0, ...extra });
  await assert.rejects(post({ metrics: [m({ key: 'auc/' })] }), /must not resolve to other names/);
  await assert.rejects(post({ metrics: [m({ key: 'a/./b' })] }), /must not resolve to other names/);
  await assert.rejects(post({ tags: [{ key: 'x//y', value: 'v' }] }), /must not resolve to other names/);
  await assert.rejects(post({ params: [{ key: 'p', value: 'v' }, { key: 'p', value: 'v' }] }), /Duplicate parameter keys have been submitted: \['p'\]/);
  await assert.rejects(post({ metrics: [m({ step: 1.5 })] }), /Couldn't parse integer: 1\.5/);
  await assert.rejects(post({ params: [{ key: 'n', value: 3 }] }), /Invalid string value 3/);
  await assert.rejects(post({ tags: [{ key: 't', value: true }] }), /Invalid string value true/);
  await assert.rejects(post({ metrics: [m({ value: true })] }), /valid double/);
  const big = Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: '€'.repeat(4990) })); // 5000 characters (within the limit), 15 kB of UTF-8
  await assert.rejects(post({ tags: big, params: Array.from({ length: 100 }, (_, i) => ({ key: `p${i}`, value: 'y'.repeat(499) })), metrics: Array.from({ length: 800 }, (_, i) => m({ key: `k${i}`.repeat(20) })) }), /at most 1000000 bytes/);
  // `..` in an artifact path (sent raw: URL parsers would resolve it before it leaves the client).
  const put = await rawRequest('PUT', `/api/2.0/mlflow-artifacts/artifacts/${expId}/${run.run_id}/artifacts/../../escape.txt`);
  assert.deepEqual([put.status, JSON.parse(put.body).message], [400, 'Invalid path']);
  // The client itself stays within every one of these limits.
  for (const part of clientPlan({ tags: big, params: [], metrics: Array.from({ length: 2000 }, (_, i) => m({ key: `k${i}`.repeat(20) })) as never })) {
    assert.ok(Buffer.byteLength(JSON.stringify({ run_id: run.run_id, ...part })) < 1_000_000);
  }
  assert.equal((await c.logBatchSplitting(run.run_id, { tags: big, params: [], metrics: [] })).length, 0);
});
