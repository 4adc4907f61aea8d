import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { compareRuns, formatComparison, resolveRun } from '../../src/tracking/compare.ts';
import { Tags, type TrackedRun, type TrackReader } from '../../src/tracking/model.ts';
import { createTracker } from '../../src/tracking/index.ts';
import { tempStore } from '../../src/testing/harness.ts';
import { runsCompareCommand } from '../../src/cli/commands/runs-compare.ts';
import { runsSyncCommand } from '../../src/cli/commands/runs-sync.ts';
import { MlflowDouble } from '../support/mlflow-double.ts';
import { emitFakeRun } from '../support/tracking-fixture.ts';
import type { FsStore } from '../../src/store/fs-store.ts';

const run = (id: string, params: Record<string, string>, metrics: Record<string, number>): TrackedRun => ({ id, name: id, experiment: 'e', status: 'FINISHED', startTime: 0, endTime: 1000, params, tags: {}, metrics });

test('compareRuns: only differing params, metrics with deltas against the first run, CIs attached', () => {
  const a = run('A', { lr: '0.001', size: '64', only_a: 'x' }, { auc: 0.8, auc_ci_low: 0.75, auc_ci_high: 0.85, loss: 0.4 });
  const b = run('B', { lr: '0.01', size: '64' }, { auc: 0.85, auc_ci_low: 0.8, auc_ci_high: 0.9, loss: 0.35, extra: 1 });
  const c = compareRuns([a, b]);
  assert.deepEqual(c.params, [{ key: 'lr', values: ['0.001', '0.01'] }, { key: 'only_a', values: ['x', undefined] }]);
  assert.equal(c.sameParams, 1);
  assert.deepEqual(c.metrics.map((m) => m.key), ['auc', 'extra', 'loss']);
  const auc = c.metrics[0];
  assert.ok(Math.abs(auc.deltas[1]! - 0.05) < 1e-12);
  assert.deepEqual(auc.ci, [[0.75, 0.85], [0.8, 0.9]]);
  assert.deepEqual(c.metrics[1].deltas, [undefined, undefined]);
  const table = formatComparison(c, 'table');
  assert.match(table, /auc\s+0\.80 \[0\.75, 0\.85\]\s+0\.85 \[0\.80, 0\.90\] \(\+0\.05\)/, 'a CI has the decimals of its value');
  assert.match(table, /loss\s+0\.4\s+0\.35 \(-0\.05\)/);
  assert.match(table, /\(1 params are the same in every run\)/);
  const md = formatComparison(c, 'md');
  assert.match(md, /^### Params/m);
  assert.match(md, /\| lr \| 0\.001 \| 0\.01 \|/);
  assert.deepEqual(JSON.parse(formatComparison(c, 'json')).params[0], { key: 'lr', values: ['0.001', '0.01'] });
});

test('resolveRun: a short ref picks the run whose name or pipeline run id it matches over server ids that merely end with it', async () => {
  // CI once failed here: an MLflow id ending in "b2" made `runs compare a1 b2` ambiguous.
  const tagged = (id: string, runId: string): TrackedRun => ({ ...run(id, {}, {}), name: runId, tags: { [Tags.pipelineRunId]: runId } });
  const runs = [tagged('96bf06579f78a1de1e529ab72f4a5d97', '20261122-b2'), tagged('e5bcd806f6b1caf8f608dc0aaac5e0b2', '20261122-a1'), tagged('b2c0ffee', '20261121-x9')];
  const reader = { kind: 'mlflow', listRuns: async (q?: { tag?: { value: string } }) => (q?.tag ? runs.filter((r) => r.tags[Tags.pipelineRunId] === q.tag!.value) : runs), getRun: async (id: string) => runs.find((r) => r.id === id) } as unknown as TrackReader;
  assert.equal((await resolveRun(reader, 'b2')).id, '96bf06579f78a1de1e529ab72f4a5d97');
  assert.equal((await resolveRun(reader, '20261122-a1')).id, 'e5bcd806f6b1caf8f608dc0aaac5e0b2');
  assert.equal((await resolveRun(reader, 'e5bcd8')).id, 'e5bcd806f6b1caf8f608dc0aaac5e0b2', 'an id prefix still works when no name matches');
  await assert.rejects(resolveRun(reader, '20261122'), /run 20261122 is ambiguous/);
  await assert.rejects(resolveRun(reader, 'zz'), /no tracked run zz/);
});

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const log = console.log;
  process.stdout.write = ((s: string) => (chunks.push(String(s)), true)) as typeof process.stdout.write;
  console.log = (...args: unknown[]) => chunks.push(args.join(' ') + '\n');
  try {
    return { code: await fn(), out: chunks.join('') };
  } finally {
    process.stdout.write = write;
    console.log = log;
  }
}

const double = await new MlflowDouble().start();
after(() => double.stop());

for (const backend of ['local', 'mlflow'] as const) {
  test(`pipeline runs compare on the ${backend} tracker`, async () => {
    const store = (await tempStore()) as FsStore;
    const env = backend === 'mlflow' ? { MLFLOW_TRACKING_URI: double.url } : {};
    const experiment = `cmp-${backend}-${Date.now()}`;
    for (const [runId, auc, lr] of [['20261122-a1', 0.8, 0.001], ['20261122-b2', 0.86, 0.01]] as const) {
      const sink = await createTracker({ config: { experiment }, store, experimentName: experiment, experimentFile: 'demo.yaml', log: () => {}, env });
      await emitFakeRun(sink, store, { runId, auc, lr, experiment });
      await sink.close?.();
    }
    const args = ['--store', store.root, ...(backend === 'mlflow' ? ['--tracking-uri', double.url] : [])];
    const { code, out } = await capture(() => runsCompareCommand.run(['20261122-a1', 'b2', ...args, '--metric', 'evaluate/']));
    assert.equal(code, 0);
    assert.match(out, /train\.lr\s+0\.001\s+0\.01/);
    assert.match(out, /evaluate\/auc_macro\s+0\.8[01]? \[0\.75, 0\.84\]\s+0\.86 \[0\.81, 0\.90\] \(\+0\.06\)/);
    assert.doesNotMatch(out, /val_auc/);
    const json = JSON.parse((await capture(() => runsCompareCommand.run(['20261122-a1', '20261122-b2', ...args, '--format', 'json']))).out);
    assert.equal(json.runs.length, 2);
    assert.ok(json.metrics.some((m: { key: string }) => m.key === 'train.fold_1/val_auc'));
    await assert.rejects(runsCompareCommand.run(['nope', '20261122-b2', ...args]), /no tracked run nope/);
  });
}

test('pipeline runs sync sends what was buffered while the server was down', async () => {
  const store = (await tempStore()) as FsStore;
  const flaky = await new MlflowDouble().start();
  const url = flaky.url;
  await flaky.stop();
  const sink = await createTracker({ config: { retries: 0, timeout_ms: 500 }, store, experimentName: 'sync', experimentFile: 'demo.yaml', log: () => {}, env: { MLFLOW_TRACKING_URI: url } });
  await emitFakeRun(sink, store, { runId: 'run-SYNC', auc: 0.7, folds: 1 });
  await sink.close?.();
  const down = await capture(() => runsSyncCommand.run(['--store', store.root, '--tracking-uri', url]));
  assert.equal(down.code, 1);
  assert.match(down.out, /operations still buffered/);
  await flaky.start();
  try {
    const up = await capture(() => runsSyncCommand.run(['--store', store.root, '--tracking-uri', url]));
    assert.equal(up.code, 0, up.out);
    assert.match(up.out, /^sent \d+ buffered operations from 1 run\(s\)/);
    assert.equal(flaky.runByName('run-SYNC')?.info.status, 'FINISHED');
    assert.match((await capture(() => runsSyncCommand.run(['--store', store.root, '--tracking-uri', url]))).out, /sent 0 buffered/);
  } finally {
    await flaky.stop();
  }
});
