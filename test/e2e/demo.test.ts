import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, REPO } from '../support/workspace.ts';
import { MlflowDouble } from '../support/mlflow-double.ts';
import { assertNoPhi } from '../support/no-phi.ts';
import { demoPhi } from '../support/demo-phi.ts';
import { FsStore } from '../../src/store/fs-store.ts';
import { Collections } from '../../src/store/store.ts';
import { loadArtifact, readArtifactFile, type Artifact } from '../../src/engine/artifact.ts';
import type { LatestEntry } from '../../src/engine/cache-key.ts';

const DEMO = join(REPO, 'experiments/demo.yaml');
const INSTANCES = ['synth', 'ingest', 'convert', 'preprocess', 'split', 'balance', 'train[fold=0]', 'train[fold=1]', 'train[fold=2]', 'tta', 'ensemble', 'evaluate', 'gradcam'];

async function latest(store: FsStore, instance: string): Promise<Artifact> {
  const entry = await store.getDoc<LatestEntry>(Collections.latest, `demo/${instance}`);
  assert.ok(entry, `no output for ${instance}`);
  return (await loadArtifact(store, entry.artifact))!;
}

test('the demo runs end to end at tiny size, is fully cached the second time, and leaks no PHI', { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-demo-'));
  const mlflow = await new MlflowDouble().start();
  const env = { DEMO_PATIENTS: '24', DEMO_EPOCHS: '2', MLFLOW_TRACKING_URI: mlflow.url };
  try {
    const first = await runCli(['run', DEMO, '--no-lock', '--store', join(dir, 'store')], dir, { env });
    assert.equal(first.code, 0, first.stderr.slice(-3000));
    for (const id of INSTANCES) assert.match(first.stdout, new RegExp(`${id.replace(/[[\]]/g, '\\$&')}\\s+ran`), `${id} ran`);
    assert.match(first.stdout, /metrics:\n\s+evaluate: auc_macro \d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]/);

    const second = await runCli(['run', DEMO, '--no-lock', '--store', join(dir, 'store')], dir, { env });
    assert.equal(second.code, 0, second.stderr.slice(-3000));
    assert.match(second.stdout, /succeeded \(13 cached\)/);

    const store = await FsStore.open(join(dir, 'store'));
    const evaluate = await latest(store, 'evaluate');
    assert.equal(evaluate.kind, 'report');
    const metrics = evaluate.meta.metrics as Record<string, number>;
    // At this size (24 patients, 2 epochs) the model is at chance: bench/demo-seeds.sh measured a macro
    // AUC of 0.43-0.59 over seeds 1, 2, 3, 7 (bench/RESULTS.md), so no floor on learning is honest here
    // (the train tests check learning). What must hold: the headline is the mean of the per-class AUCs.
    // Classes without both outcomes in the test split have no AUC (not in the metrics) and no part in the mean.
    const perClass = (evaluate.meta.classes as string[]).map((c) => metrics[`auc/${c}`]).filter((v) => Number.isFinite(v));
    assert.ok(perClass.length >= 2, `per-class AUCs: ${JSON.stringify(metrics)}`);
    assert.ok(Math.abs(metrics.auc_macro - perClass.reduce((a, b) => a + b, 0) / perClass.length) < 1e-9, `auc_macro ${metrics.auc_macro} is not the mean of ${perClass.join(', ')}`);

    const phi = await demoPhi(store);
    assert.ok(phi.length >= 24 * 2, `expected names, ids and birth dates of 24 patients, got ${phi.length} values`);
    await assertNoPhi(phi, { double: mlflow, store, collections: ['tracking-runs', 'tracking-buffer', Collections.runs] });
    const lower = (first.stdout + first.stderr + second.stdout + second.stderr).toLowerCase();
    for (const [i, value] of phi.entries()) assert.ok(!lower.includes(value.toLowerCase()), `PHI value #${i} appears in the CLI output`);
    for (const instance of ['ingest', 'convert', 'preprocess', 'split', 'ensemble']) {
      const artifact = await latest(store, instance);
      const rows = artifact.rows ? (await store.getBlob(artifact.rows)).toString('utf8').toLowerCase() : '';
      for (const [i, value] of phi.entries()) assert.ok(!rows.includes(value.toLowerCase()), `PHI value #${i} appears in the ${instance} dataset`);
    }
    const html = (await readArtifactFile(store, evaluate, 'report.html')).toString('utf8').toLowerCase();
    for (const [i, value] of phi.entries()) assert.ok(!html.includes(value.toLowerCase()), `PHI value #${i} appears in the report`);
    assert.ok(mlflow.runs.size >= INSTANCES.length + 1, `MLflow received ${mlflow.runs.size} runs`);
  } finally {
    await mlflow.stop();
  }
});
