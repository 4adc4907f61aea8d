import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunOptions, RunResult } from '../../src/engine/runner-api.ts';
import { createTracker } from '../../src/tracking/index.ts';
import { LocalTrackReader } from '../../src/tracking/local/local-tracker.ts';
import { MlflowReader } from '../../src/tracking/mlflow/reader.ts';
import { mlflowClient } from '../../src/tracking/connection.ts';
import { listScheduleRecords, Scheduler, type ScheduleRecord } from '../../src/schedule/scheduler.ts';
import { beats, promoteIfBetter, resolveMetric } from '../../src/schedule/promote.ts';
import { trackingConfigSchema } from '../../src/tracking/config.ts';
import { tempStore } from '../../src/testing/harness.ts';
import type { Store } from '../../src/store/store.ts';
import { MlflowDouble } from '../support/mlflow-double.ts';
import { emitFakeRun } from '../support/tracking-fixture.ts';

const EVERY_SECOND = '* * * * * *';
/** Triggers skipped because a run was still going: how many happen depends on the machine's load. */
const ran = (records: ScheduleRecord[]) => {
  for (const r of records.filter((r) => r.status === 'skipped')) assert.equal(r.reason, 'the previous run is still running');
  return records.filter((r) => r.status !== 'skipped');
};

const promoteConfig = trackingConfigSchema.parse({ promote: { metric: 'auc_macro' } }).promote!;

/** An injected run function: a fake pipeline run tracked by the real tracker, with the given AUCs in turn. */
function fakeRunner(store: Store, aucs: number[], opts: { env?: NodeJS.ProcessEnv; durationMs?: number; holdUntil?: Promise<void>; experiment?: string } = {}) {
  let n = 0;
  let active = 0;
  const stats = { maxActive: 0, calls: 0 };
  const run = async (options: RunOptions): Promise<RunResult> => {
    const i = n++;
    stats.calls++;
    active++;
    stats.maxActive = Math.max(stats.maxActive, active);
    try {
      const runId = `sched-${i}`;
      const experiment = opts.experiment ?? 'sched';
      const sink = await createTracker({ config: { experiment }, store, experimentName: experiment, experimentFile: options.file, log: () => {}, env: opts.env ?? {} });
      await emitFakeRun(sink, store, { runId, auc: aucs[i], folds: 1, epochs: 1 });
      await (opts.holdUntil ?? new Promise((r) => setTimeout(r, opts.durationMs ?? 50)));
      await sink.close?.();
      return { runId, status: 'succeeded', instances: [] };
    } finally {
      active--;
    }
  };
  return { run, stats };
}

test('every-second schedule: runs are recorded and only a better run becomes champion', async () => {
  const store = await tempStore();
  const { run, stats } = fakeRunner(store, [0.7, 0.8, 0.75, 0.9]);
  const reader = new LocalTrackReader(store);
  const logs: string[] = [];
  const scheduler = new Scheduler({ file: 'experiments/demo.yaml', cron: EVERY_SECOND, store, run, promote: { config: promoteConfig, reader, experiment: 'sched' }, log: (l, m) => logs.push(`${l}: ${m}`), maxRuns: 4 }).start();
  assert.ok(scheduler.nextRun()!.getTime() - Date.now() <= 1000);
  await scheduler.done;
  assert.equal(stats.calls, 4);
  // --max-runs counts runs: a trigger skipped while a slow run (a loaded machine) was going does not.
  const records = ran(await listScheduleRecords(store));
  assert.deepEqual(records.map((r) => r.status), ['succeeded', 'succeeded', 'succeeded', 'succeeded']);
  assert.deepEqual(records.map((r) => r.promotion?.promoted), [true, true, false, true]);
  assert.equal(records[2].promotion?.reason, 'evaluate/auc_macro 0.75 does not beat the champion\'s 0.8 (max)');
  assert.deepEqual(records[3].promotion?.previous, { runId: 'sched-1', value: 0.8 });
  const tags = await Promise.all(['sched-0', 'sched-1', 'sched-2', 'sched-3'].map(async (id) => (await reader.getRun(id))?.tags['pipeline.champion']));
  assert.deepEqual(tags, ['false', 'false', undefined, 'true']);
  assert.ok(logs.some((l) => /sched-3 is the new champion/.test(l)));
});

test('never overlaps itself: triggers during a long run are recorded as skipped and do not count as runs', { timeout: 60_000 }, async () => {
  const store = await tempStore();
  // The run goes on until two more triggers have fired (each second), however slow the machine is.
  let skipped = 0;
  let twoSkipped!: () => void;
  const holdUntil = new Promise<void>((resolve) => (twoSkipped = resolve));
  const { run, stats } = fakeRunner(store, [0.7, 0.7], { holdUntil });
  const log = (_: string, message: string) => void (/skipped a trigger/.test(message) && ++skipped === 2 && twoSkipped());
  const scheduler = new Scheduler({ file: 'x.yaml', cron: EVERY_SECOND, store, run, log, maxRuns: 1 }).start();
  await scheduler.done;
  assert.equal(stats.maxActive, 1);
  assert.equal(stats.calls, 1, 'max-runs 1: one run, the skipped triggers do not count');
  const records = await listScheduleRecords(store);
  assert.equal(records.filter((r) => r.status === 'succeeded').length, 1);
  assert.ok(records.filter((r) => r.status === 'skipped').length >= 2);
  assert.deepEqual(ran(records).map((r) => r.status), ['succeeded']);
});

test('a run that throws is recorded as error; a failed run is never promoted', async () => {
  const store = await tempStore();
  let calls = 0;
  const reader = new LocalTrackReader(store);
  const scheduler = new Scheduler({
    file: 'x.yaml',
    cron: EVERY_SECOND,
    store,
    run: async () => {
      if (calls++ === 0) throw new Error('experiment file not found');
      return { runId: 'r-failed', status: 'failed', instances: [] };
    },
    promote: { config: promoteConfig, reader, experiment: 'x' },
    log: () => {},
    maxRuns: 2,
  }).start();
  await scheduler.done;
  const records = ran(await listScheduleRecords(store));
  assert.deepEqual(records.map((r) => [r.status, r.reason, r.promotion]), [['error', 'experiment file not found', undefined], ['failed', undefined, undefined]]);
});

test('promotion on MLflow tags the runs; min_delta and min mode are honoured; ambiguous metrics are named', async () => {
  const double = await new MlflowDouble().start();
  try {
    const store = await tempStore();
    const env = { MLFLOW_TRACKING_URI: double.url };
    const { run } = fakeRunner(store, [0.8, 0.805, 0.9], { env, experiment: 'sched-mlflow' });
    const reader = new MlflowReader(mlflowClient(double.url));
    const promote = { metric: 'evaluate/auc_macro', mode: 'max' as const, min_delta: 0.01 };
    const results = [];
    for (let i = 0; i < 3; i++) {
      const r = await run({ file: 'x.yaml' });
      results.push(await promoteIfBetter({ reader, experiment: 'sched-mlflow', runId: r.runId, promote }));
    }
    assert.deepEqual(results.map((r) => r.promoted), [true, false, true]);
    assert.equal(double.runByName('sched-0')?.tags.get('pipeline.champion'), 'false');
    assert.equal(double.runByName('sched-1')?.tags.get('pipeline.champion'), undefined);
    assert.equal(double.runByName('sched-2')?.tags.get('pipeline.champion'), 'true');
    assert.ok(double.count('runs/set-tag') >= 3);
    const lower = { metric: 'loss', mode: 'min' as const, min_delta: 0.05 };
    assert.equal(beats(0.2, 0.3, lower), true);
    assert.equal(beats(0.28, 0.3, lower), false, 'not better by more than min_delta');
    assert.equal(beats(0.31, 0.3, { ...lower, mode: 'max', min_delta: 0 }), true);
    assert.match((resolveMetric({ 'train.fold_0/val_auc': 1, 'train.fold_1/val_auc': 2 }, 'val_auc') as { error: string }).error, /ambiguous: train\.fold_0\/val_auc, train\.fold_1\/val_auc/);
  } finally {
    await double.stop();
  }
});
