import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline } from '../../src/engine/runner.ts';
import { scheduleCommand } from '../../src/cli/commands/schedule.ts';
import { listScheduleRecords } from '../../src/schedule/scheduler.ts';
import { FsStore } from '../../src/store/fs-store.ts';
import { LocalTrackReader } from '../../src/tracking/local/local-tracker.ts';
import { MlflowDouble } from '../support/mlflow-double.ts';
import { assertNoPhi } from '../support/no-phi.ts';

/** A real experiment with a user stage module that logs per-epoch metrics and writes a report. */
async function experimentDir(): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-track-e2e-'));
  await mkdir(join(dir, 'stages'));
  await writeFile(
    join(dir, 'stages', 'score.ts'),
    `import { z } from ${JSON.stringify(import.meta.resolve('zod'))};
export default {
  name: 'score', version: 1, description: 'fake evaluation', inputs: { min: 0, max: 0 },
  params: z.object({ auc: z.number(), epochs: z.number().default(3) }).strict(),
  async run(ctx, _inputs, p) {
    // Stages may log patient details; no log line goes to the tracker.
    ctx.log.info('scored images of patient DOE^JANE');
    ctx.log.warn('patient DOE^JANE has one image only');
    for (let e = 0; e < p.epochs; e++) ctx.metric('val_auc', p.auc * (e + 1) / p.epochs, e);
    const report = { metrics: { auc_macro: p.auc }, roc: { all: { fpr: [0, 0.2, 1], tpr: [0, 0.7, 1], auc: p.auc } } };
    return { kind: 'report', files: { 'report.json': JSON.stringify(report), 'report.html': '<h1>ok</h1>' }, meta: { metrics: { auc_macro: p.auc } } };
  },
};
`,
  );
  const file = join(dir, 'exp.yaml');
  await writeFile(file, `name: e2e\ntracking: { experiment: e2e-tracking, promote: { metric: auc_macro, mode: max } }\nstages:\n  evaluate: { uses: ./stages/score.ts, with: { auc: 0.83, epochs: 3 } }\n`);
  return { dir, file };
}

const double = await new MlflowDouble().start();
after(() => double.stop());

test('pipeline run with MLFLOW_TRACKING_URI: the engine feeds the tracker; a rerun is logged as cached', async () => {
  const { dir, file } = await experimentDir();
  process.env.MLFLOW_TRACKING_URI = double.url;
  const logged: string[] = [];
  try {
    const first = await runPipeline({ file, store: join(dir, '.pipeline'), sinks: [{ handle: (e) => void (e.type === 'log' && logged.push(e.message)) }] });
    assert.equal(first.status, 'succeeded');
    const second = await runPipeline({ file, store: join(dir, '.pipeline') });
    assert.equal(second.instances[0].status, 'cached');
  } finally {
    delete process.env.MLFLOW_TRACKING_URI;
  }
  const parents = [...double.runs.values()].filter((r) => !r.tags.has('mlflow.parentRunId') && r.tags.get('pipeline.experiment_file')?.endsWith('exp.yaml'));
  assert.equal(parents.length, 2);
  assert.ok(parents.every((p) => p.info.status === 'FINISHED'));
  const children = [...double.runs.values()].filter((r) => r.info.run_name === 'evaluate');
  assert.equal(children.length, 2);
  assert.deepEqual(children.map((c) => c.tags.get('pipeline.cached')).sort(), ['false', 'true']);
  const ran = children.find((c) => c.tags.get('pipeline.cached') === 'false')!;
  assert.deepEqual(ran.metrics.filter((m) => m.key === 'val_auc').map((m) => m.step), [0, 1, 2]);
  assert.equal(ran.metrics.find((m) => m.key === 'auc_macro')?.value, 0.83);
  assert.equal(ran.params.get('with.auc'), '0.83');
  assert.equal(ran.tags.get('pipeline.uses'), './stages/score.ts');
  assert.match(ran.tags.get('pipeline.cache_key') ?? '', /^[0-9a-f]{64}$/);
  assert.ok([...double.artifacts.keys()].some((k) => k.startsWith(ran.info.artifact_uri.replace('mlflow-artifacts:/', '')) && k.endsWith('report.json')));
  assert.equal(parents[0].metrics.find((m) => m.key === 'evaluate/auc_macro')?.value, 0.83);
  assert.equal(logged.filter((m) => m.includes('DOE^JANE')).length, 2, 'the stage did log the name');
  await assertNoPhi(['DOE^JANE'], { double });
});

test('pipeline schedule FILE --cron (every second, 2 runs): recorded, first run becomes champion, an equal rerun does not', async () => {
  const { dir, file } = await experimentDir();
  const store = join(dir, '.pipeline');
  delete process.env.MLFLOW_TRACKING_URI;
  const code = await scheduleCommand.run([file, '--cron', '* * * * * *', '--max-runs', '2', '--store', store]);
  assert.equal(code, 0);
  const fs = await FsStore.open(store);
  // Two runs (--max-runs counts runs); a trigger that fired while a run was still going (a loaded
  // machine) is recorded as skipped and does not count.
  const all = await listScheduleRecords(fs);
  assert.ok(all.every((r) => r.status !== 'skipped' || r.reason === 'the previous run is still running'));
  const records = all.filter((r) => r.status !== 'skipped');
  assert.deepEqual(records.map((r) => r.status), ['succeeded', 'succeeded']);
  assert.deepEqual(records.map((r) => r.promotion?.promoted), [true, false]);
  const reader = new LocalTrackReader(fs);
  const champion = await reader.listRuns({ tag: { key: 'pipeline.champion', value: 'true' } });
  assert.deepEqual(champion.map((r) => r.id), [records[0].runId]);
  await assert.rejects(scheduleCommand.run([file, '--cron', 'every tuesday', '--store', store]), /invalid --cron "every tuesday"/);
  await assert.rejects(scheduleCommand.run([file, '--store', store]), /--cron is required/);
  // --once (systemd timer / CronJob): runs now, records, exits.
  await fs.close();
  assert.equal(await scheduleCommand.run([file, '--once', '--store', store]), 0);
  const after = (await listScheduleRecords(await FsStore.open(store))).filter((r) => r.status !== 'skipped');
  assert.equal(after.length, 3);
  assert.deepEqual([after[2].status, after[2].cron, after[2].promotion?.promoted], ['succeeded', 'once', false]);
});
