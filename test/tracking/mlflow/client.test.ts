import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { MlflowClient } from '../../../src/tracking/mlflow/client.ts';
import { MlflowApiError, MlflowUnavailableError } from '../../../src/tracking/mlflow/http.ts';
import { MlflowDouble } from '../../support/mlflow-double.ts';

// The protocol tests run against the double, and also against a real server when MLFLOW_TRACKING_URI is set.
const double = await new MlflowDouble().start();
after(() => double.stop());
const targets: Array<[string, string]> = [['double', double.url]];
if (process.env.MLFLOW_TRACKING_URI) targets.push(['real MLflow', process.env.MLFLOW_TRACKING_URI]);

const client = (url: string, retries = 2) => new MlflowClient({ baseUrl: url, timeoutMs: 3000, retries, backoffMs: 10 });
const unique = (p: string) => `${p}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

for (const [label, url] of targets) {
  test(`[${label}] experiments, runs, chunked log-batch, history, search`, async () => {
    const c = client(url);
    const name = unique('client-test');
    assert.equal(await c.getExperimentByName(name), undefined);
    const expId = await c.ensureExperiment(name);
    assert.equal(await c.ensureExperiment(name), expId, 'second ensure finds the same experiment');
    const start = Date.now();
    const parent = await c.createRun({ experimentId: expId, startTime: start, runName: 'parent', tags: [{ key: 'pipeline.ref', value: 'r1' }] });
    assert.equal(parent.status, 'RUNNING');
    assert.equal(Number(parent.start_time), start);
    const metrics = Array.from({ length: 2500 }, (_, i) => ({ key: `m${i % 5}`, value: i / 10, timestamp: start + i, step: Math.floor(i / 5) }));
    const params = Array.from({ length: 250 }, (_, i) => ({ key: `with.p${i}`, value: `v${i}` }));
    const tags = Array.from({ length: 120 }, (_, i) => ({ key: `t${i}`, value: `tv${i}` }));
    const requests = await c.logBatch(parent.run_id, { metrics, params, tags });
    assert.equal(requests, 3);
    const run = await c.getRun(parent.run_id);
    assert.ok(run);
    assert.equal(run.data.params?.length, 250);
    assert.equal(run.data.tags?.find((t) => t.key === 't119')?.value, 'tv119');
    const latest = run.data.metrics?.find((m) => m.key === 'm4');
    assert.equal(Number(latest?.value), 249.9);
    const history = await c.getMetricHistory(parent.run_id, 'm0');
    assert.equal(history.length, 500);
    assert.deepEqual(history.map((h) => h.step).slice(0, 3), [0, 1, 2]);
    await c.setTag(parent.run_id, 'pipeline.champion', 'true');
    const found = await c.searchRuns({ experiment_ids: [expId], filter: "tags.`pipeline.ref` = 'r1'" });
    assert.deepEqual(found.map((r) => r.info.run_id), [parent.run_id]);
    await c.updateRun(parent.run_id, 'FINISHED', start + 5000);
    const done = await c.getRun(parent.run_id);
    assert.equal(done?.info.status, 'FINISHED');
    assert.equal(Number(done?.info.end_time), start + 5000);
  });

  test(`[${label}] MLflow errors are surfaced with error_code: immutable params, unknown run, limits`, async () => {
    const c = client(url);
    const expId = await c.ensureExperiment(unique('client-errors'));
    const run = await c.createRun({ experimentId: expId, startTime: Date.now(), runName: 'r', tags: [] });
    await c.logBatch(run.run_id, { metrics: [], params: [{ key: 'lr', value: '0.1' }], tags: [] });
    await c.logBatch(run.run_id, { metrics: [], params: [{ key: 'lr', value: '0.1' }], tags: [] }); // same value: idempotent
    await assert.rejects(c.logBatch(run.run_id, { metrics: [], params: [{ key: 'lr', value: '0.2' }], tags: [] }), (err: unknown) => {
      assert.ok(err instanceof MlflowApiError);
      assert.equal(err.errorCode, 'INVALID_PARAMETER_VALUE');
      assert.equal(err.status, 400);
      assert.match(err.message, /Changing param values is not allowed/);
      return true;
    });
    await assert.rejects(c.updateRun('0123456789abcdef0123456789abcdef', 'FINISHED', Date.now()), (err: unknown) => err instanceof MlflowApiError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST' && err.status === 404);
    assert.equal(await c.getRun('0123456789abcdef0123456789abcdef'), undefined);
    // A raw oversized request (bypassing the chunking) is rejected the way MLflow does.
    const { mlflowFetch } = await import('../../../src/tracking/mlflow/http.ts');
    const tooMany = Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: 'v' }));
    await assert.rejects(mlflowFetch(c.http, { method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', json: { run_id: run.run_id, params: tooMany } }), /INVALID_PARAMETER_VALUE.*at most 100 params/);
  });

  test(`[${label}] artifacts through the mlflow-artifacts proxy: upload, list, download`, async () => {
    const c = client(url);
    const expId = await c.ensureExperiment(unique('client-artifacts'));
    const run = await c.createRun({ experimentId: expId, startTime: Date.now(), runName: 'r', tags: [] });
    assert.match(run.artifact_uri, /^mlflow-artifacts:/);
    await c.uploadArtifact(run.artifact_uri, 'report.html', Buffer.from('<h1>hi</h1>'));
    await c.uploadArtifact(run.artifact_uri, 'plots/roc curve.svg', Buffer.from('<svg/>'));
    assert.deepEqual(await c.listArtifacts(run.artifact_uri), ['plots/roc curve.svg', 'report.html']);
    assert.equal((await c.downloadArtifact(run.artifact_uri, 'plots/roc curve.svg'))?.toString(), '<svg/>');
  });
}

test('[double] retries 5xx with backoff, then succeeds', async () => {
  const c = client(double.url, 3);
  double.failNext = 2;
  const before = double.count('experiments/get-by-name');
  const id = await c.ensureExperiment(unique('retry'));
  assert.ok(id);
  assert.equal(double.count('experiments/get-by-name') - before, 3, 'two 503s then one success');
});

test('[double] a server that stays down gives MlflowUnavailableError after the retries; a JSON 4xx is never retried', async () => {
  const c = client(double.url, 2);
  double.mode = 'error';
  double.errorStatus = 502;
  const before = double.received.length;
  await assert.rejects(c.ensureExperiment('x'), (err: unknown) => err instanceof MlflowUnavailableError && /HTTP 502.*after 3 attempts/.test(err.message));
  assert.equal(double.received.length - before, 3);
  double.mode = 'reset';
  await assert.rejects(c.ensureExperiment('x'), (err: unknown) => err instanceof MlflowUnavailableError && /after 3 attempts/.test(err.message));
  double.mode = 'up';
  const n = double.received.length;
  await assert.rejects(c.updateRun('nope', 'FINISHED', 1), MlflowApiError);
  assert.equal(double.received.length - n, 1);
  const refused = client('http://127.0.0.1:9', 1);
  await assert.rejects(refused.ensureExperiment('x'), (err: unknown) => err instanceof MlflowUnavailableError && /ECONNREFUSED/.test(err.message));
});

test('[double] a slow server times out within the bound', async () => {
  const c = new MlflowClient({ baseUrl: double.url, timeoutMs: 200, retries: 1, backoffMs: 10 });
  double.delayMs = 1000;
  const t0 = Date.now();
  try {
    await assert.rejects(c.ensureExperiment('slow'), (err: unknown) => err instanceof MlflowUnavailableError && /no answer within 200 ms/.test(err.message));
  } finally {
    double.delayMs = 0;
  }
  assert.ok(Date.now() - t0 < 900, `took ${Date.now() - t0} ms`);
});
