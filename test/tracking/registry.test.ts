import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { RunRecorder } from '../../src/engine/run-record.ts';
import type { EventSink } from '../../src/engine/events.ts';
import { modelsCommand } from '../../src/cli/commands/models.ts';
import { Scheduler } from '../../src/schedule/scheduler.ts';
import { createTracker } from '../../src/tracking/index.ts';
import { trackingConfigSchema } from '../../src/tracking/config.ts';
import { mlflowClient, openReader, openRegistry } from '../../src/tracking/connection.ts';
import { MlflowApiError } from '../../src/tracking/mlflow/http.ts';
import { MlflowClient } from '../../src/tracking/mlflow/client.ts';
import { LocalModelRegistry } from '../../src/tracking/registry/local-registry.ts';
import { MlflowModelRegistry } from '../../src/tracking/registry/mlflow-registry.ts';
import { registerRunModels } from '../../src/tracking/registry/register-run.ts';
import { tempStore } from '../../src/testing/harness.ts';
import type { Store } from '../../src/store/store.ts';
import { MlflowDouble } from '../support/mlflow-double.ts';
import { emitFakeRun } from '../support/tracking-fixture.ts';

// Issue 14 item 5: the MLflow Model Registry (REST API of MLflow 2.x) and the local registry mirroring it.
const double = await new MlflowDouble().start();
after(() => double.stop());
const targets: Array<[string, string]> = [['double', double.url]];
if (process.env.MLFLOW_TRACKING_URI) targets.push(['real MLflow', process.env.MLFLOW_TRACKING_URI]);
const unique = (p: string) => `${p}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

for (const [label, url] of targets) {
  test(`[${label}] registry REST API: create, versions from a run's artifacts, aliases, errors`, async () => {
    const client = new MlflowClient({ baseUrl: url, timeoutMs: 5000, retries: 1, backoffMs: 10 });
    const store = await tempStore();
    const expId = await client.ensureExperiment(unique('registry'));
    const run = await client.createRun({ experimentId: expId, startTime: Date.now(), runName: 'champion', tags: [] });
    const registry = new MlflowModelRegistry(client, store);
    const name = unique('cxr-model');
    const blob = await store.putBlob(Buffer.from('{"format":"layers-model"}'));
    const v1 = await registry.registerVersion({ name, trackedRunId: run.run_id, files: [{ path: 'model.json', blob }], tags: { 'pipeline.run_id': 'r1' } });
    assert.equal(v1.version, '1');
    assert.equal(v1.source, `${run.artifact_uri}/model`);
    assert.equal(v1.runId, run.run_id);
    assert.equal((await client.downloadArtifact(run.artifact_uri, 'model/model.json'))?.toString(), '{"format":"layers-model"}', 'files uploaded under model/');
    await registry.setAlias(name, 'champion', '1');
    const v2 = await registry.registerVersion({ name, trackedRunId: run.run_id, files: [{ path: 'model.json', blob }], tags: {} });
    assert.equal(v2.version, '2', 'the registered model already exists: a new version');
    assert.equal((await registry.getByAlias(name, 'champion'))?.version, '1');
    await registry.setAlias(name, 'champion', '2');
    assert.equal((await registry.getByAlias(name, 'champion'))?.version, '2', 'the alias moved');
    const model = await registry.getModel(name);
    assert.deepEqual(model?.aliases, { champion: '2' });
    assert.equal(model?.latestVersion, '2');
    assert.deepEqual((await registry.listVersions(name)).map((v) => [v.version, v.aliases]), [['1', []], ['2', ['champion']]]);
    assert.ok((await registry.listModels()).some((m) => m.name === name));
    assert.equal(await registry.getByAlias(name, 'nope'), undefined);
    assert.equal(await registry.getModel(unique('missing')), undefined);
    // What MLflow 2.x rejects.
    const rejects = (p: Promise<unknown>, code: string, re: RegExp) => assert.rejects(p, (err: unknown) => err instanceof MlflowApiError && err.errorCode === code && re.test(err.message));
    await rejects(registry.setAlias(name, 'latest', '1'), 'INVALID_PARAMETER_VALUE', /reserved/);
    await rejects(registry.setAlias(name, 'v1', '1'), 'INVALID_PARAMETER_VALUE', /reserved/);
    await rejects(registry.setAlias(name, 'no spaces', '1'), 'INVALID_PARAMETER_VALUE', /alphanumerics/);
    await rejects(registry.setAlias(name, 'champion', '99'), 'RESOURCE_DOES_NOT_EXIST', /not found/);
    await rejects(client.call('POST', 'registered-models/create', { name }), 'RESOURCE_ALREADY_EXISTS', /already exists/);
    await rejects(client.call('POST', 'model-versions/create', { name, source: `${run.artifact_uri}/../../x`, run_id: run.run_id }), 'INVALID_PARAMETER_VALUE', /Invalid model version source/);
    await rejects(client.call('POST', 'model-versions/create', { name, source: '/etc/passwd', run_id: run.run_id }), 'INVALID_PARAMETER_VALUE', /Invalid model version source/);
    await rejects(client.call('POST', 'model-versions/create', { name: unique('absent'), source: `${run.artifact_uri}/model` }), 'RESOURCE_DOES_NOT_EXIST', /not found/);
  });
}

/** A sink that feeds the tracker and writes the run record, as the engine does. */
async function trackedRun(store: Store, env: NodeJS.ProcessEnv, runId: string, auc: number, experiment: string) {
  const tracker = await createTracker({ config: { experiment }, store, experimentName: experiment, experimentFile: 'x.yaml', log: () => {}, env });
  const recorder = new RunRecorder(store, { id: runId, experiment, file: 'x.yaml', fileHash: 'f'.repeat(64), argv: [], pid: 1, status: 'running', startedAt: Date.now(), instances: [] });
  const sink: EventSink = { handle: (e) => (tracker.handle(e), recorder.handle(e)) };
  await emitFakeRun(sink, store, { runId, auc, folds: 2, epochs: 1 });
  await tracker.close?.();
  await recorder.close();
}

test('local registry: the models of a run (one per fold) become one version; the alias moves; the store blobs are referenced', async () => {
  const store = await tempStore();
  await trackedRun(store, {}, 'run-L1', 0.8, 'local-reg');
  await trackedRun(store, {}, 'run-L2', 0.85, 'local-reg');
  const registry = new LocalModelRegistry(store);
  const first = await registerRunModels({ registry, store, runId: 'run-L1', trackedRunId: 'run-L1', name: 'cxr', alias: 'champion' });
  assert.deepEqual(first.instances, ['train[fold=0]', 'train[fold=1]']);
  assert.deepEqual(Object.keys(first.version.files!).sort(), ['train.fold_0/model.json', 'train.fold_1/model.json']);
  assert.match((await store.getBlob(first.version.files!['train.fold_1/model.json'])).toString(), /"fold":1,"run":"run-L1"/);
  const second = await registerRunModels({ registry, store, runId: 'run-L2', trackedRunId: 'run-L2', name: 'cxr', alias: 'champion' });
  assert.equal(second.version.version, '2');
  assert.deepEqual((await registry.listVersions('cxr')).map((v) => [v.version, v.aliases, v.tags['pipeline.run_id']]), [['1', [], 'run-L1'], ['2', ['champion'], 'run-L2']]);
  await assert.rejects(registerRunModels({ registry, store, runId: 'run-L1', trackedRunId: 'run-L1', name: 'cxr', alias: 'latest' }), /"latest" is reserved/);
  await assert.rejects(registerRunModels({ registry, store, runId: 'nope', trackedRunId: 'nope', name: 'cxr' }), /no run record nope/);
});

test('scheduled champion promotion registers a version in MLflow and moves the champion alias; pipeline models list|show|promote', async () => {
  const store = await tempStore();
  const env = { MLFLOW_TRACKING_URI: double.url };
  const experiment = unique('sched-reg');
  const aucs = [0.7, 0.65, 0.8];
  let n = 0;
  const config = trackingConfigSchema.parse({ promote: { metric: 'auc_macro', model: `${experiment}-model` } }).promote!;
  const scheduler = new Scheduler({
    file: 'x.yaml',
    cron: 'once',
    store,
    run: async () => {
      const runId = `${experiment}-${n}`;
      await trackedRun(store, env, runId, aucs[n++], experiment);
      return { runId, status: 'succeeded', instances: [] };
    },
    promote: { config, reader: openReader({ store, env }), registry: openRegistry({ store, env }), experiment },
    log: () => {},
  });
  const records = [await scheduler.runOnce(), await scheduler.runOnce(), await scheduler.runOnce()];
  assert.deepEqual(records.map((r) => r.promotion?.registered?.version), ['1', undefined, '2']);
  assert.equal(records[2].promotion?.registered?.alias, 'champion');
  const model = double.registeredModels.get(`${experiment}-model`)!;
  assert.equal(model.aliases.get('champion'), '2');
  const v2 = model.versions[1];
  const champion = double.runByName(`${experiment}-2`)!;
  assert.equal(v2.run_id, champion.info.run_id, 'registered from the champion parent run');
  assert.equal(v2.source, `${champion.info.artifact_uri}/model`);
  assert.equal(v2.tags.get('pipeline.run_id'), `${experiment}-2`);
  assert.equal(v2.tags.get('metric.evaluate/auc_macro'), '0.8');
  const root = champion.info.artifact_uri.replace('mlflow-artifacts:/', '');
  assert.deepEqual([...double.artifacts.keys()].filter((k) => k.startsWith(`${root}/model/`)).map((k) => k.slice(root.length + 1)).sort(), ['model/train.fold_0/model.json', 'model/train.fold_1/model.json']);

  // The CLI over the same registry.
  const out: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  try {
    const args = ['--store', store.location, '--tracking-uri', double.url];
    assert.equal(await modelsCommand.run(['list', ...args]), 0);
    assert.match(out.join('\n'), new RegExp(`${experiment}-model\\s+2\\s+champion=v2`));
    out.length = 0;
    assert.equal(await modelsCommand.run(['show', `${experiment}-model`, ...args]), 0);
    assert.match(out.join('\n'), new RegExp(`2\\s+champion\\s+${experiment}-2`));
    out.length = 0;
    assert.equal(await modelsCommand.run(['promote', `${experiment}-1`, '--model', `${experiment}-model`, ...args]), 0);
    assert.match(out.join('\n'), /registered .* version 3 .* alias champion -> v3 \(mlflow registry\)/);
    assert.equal(model.aliases.get('champion'), '3');
    await assert.rejects(modelsCommand.run(['promote', `${experiment}-1`, '--alias', 'latest', ...args]), /"latest" is reserved/);
  } finally {
    console.log = log;
  }
  void mlflowClient;
});
