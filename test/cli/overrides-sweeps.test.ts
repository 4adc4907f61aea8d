import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FsStore } from '../../src/store/fs-store.ts';
import { LocalTrackReader } from '../../src/tracking/local/local-tracker.ts';
import { startDashboard } from '../../src/ui/server.ts';
import type { RunRecord } from '../../src/engine/run-record.ts';
import { Collections } from '../../src/store/store.ts';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readLockedSection } from '../../src/lock/lock-file.ts';
import { workspace } from '../support/workspace.ts';

// Issue 14 items 1-2: --set overrides and --sweep grids / random search, end to end through the CLI
// on fast synthetic stages: a source, a per-item stage that does not depend on the swept values
// (must run once for the whole sweep) and a "training" whose score is a known function of lr and model.
const yaml = `
name: sweep-test
params: { lr: 0.001, model: small, n: 4 }
stages:
  source: { uses: $FIXTURES/source.ts, with: { n: "\${params.n}" } }
  prep: { uses: $FIXTURES/count.ts, from: source, with: { log: prep.log, delay_ms: 20 } }
  train: { uses: $FIXTURES/score.ts, from: prep, with: { lr: "\${params.lr}", model: "\${params.model}", log: train.log, ms: 250 } }
`;

test('--set: plan explains it, run records it (run record, tracking tag and params), bad ones are located at the flag', async () => {
  const ws = await workspace(yaml);
  assert.equal((await ws.cli(['run', 'exp.yaml'])).code, 0);
  const plan = await ws.cli(['plan', 'exp.yaml', '-S', 'params.lr=1e-2', '--set', 'stages.train.with.ms=5']);
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /^overrides \(command line\): params\.lr=0\.01, stages\.train\.with\.ms=5/);
  assert.match(plan.stdout, /train\s+will run\s+param with\.lr changed 0\.001 -> 0\.01; param with\.ms changed 250 -> 5/);
  assert.match(plan.stdout, /prep\s+cached/);

  const run = await ws.cli(['run', 'exp.yaml', '-S', 'params.lr=1e-2']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /auc_macro 0\.850/);
  const store = await FsStore.open(ws.storeDir, { durable: false });
  const show = await ws.cli(['runs', 'show', 'last']);
  assert.match(show.stdout, /overrides {2}params\.lr=0\.01/);
  const runId = /^run\s+(\S+)/m.exec(show.stdout)![1];
  const record = (await store.getDoc<RunRecord>(Collections.runs, runId))!;
  assert.deepEqual(record.overrides, ['params.lr=0.01']);
  const tracked = (await new LocalTrackReader(store).getRun(runId))!;
  assert.equal(tracked.tags['pipeline.overrides'], 'params.lr=0.01');
  assert.equal(tracked.params['params.lr'], '0.01');
  assert.equal(tracked.params['train.lr'], '0.01');

  const bad = await ws.cli(['run', 'exp.yaml', '-S', 'params.lrr=1', '-S', 'stages.train.with.model=huge', '-S', 'stages.train.with.mss=3', '-S', 'params.n=-1']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /command line, --set params\.lrr=1: error: cannot set params\.lrr: the experiment has no param lrr and nothing uses \$\{params\.lrr\}\n {2}hint: did you mean "params\.lr"\?/);
  const again = await ws.cli(['run', 'exp.yaml', '-S', 'stages.train.with.model=huge', '-S', 'stages.train.with.mss=3', '-S', 'params.n=-1']);
  assert.match(again.stderr, /command line, --set stages\.train\.with\.model=huge: error: stage train \(.*score\.ts\): with\.model: got "huge", expected one of "small", "big"/);
  assert.match(again.stderr, /command line, --set stages\.train\.with\.mss=3: error: stage train \(.*\): unknown param with\.mss\n {2}hint: did you mean "ms"\?/);
  assert.match(again.stderr, /exp\.yaml:5:\d+: error: stage source \(.*\): with\.n: Too small.*\n {2}hint: the value comes from \$\{params\.n\}, set on the command line: --set params\.n=-1/);
});

test('--sweep grid: variants share what does not depend on the swept values, share the concurrency, and are tracked under one sweep run', async () => {
  const ws = await workspace(yaml);
  const run = await ws.cli(['run', 'exp.yaml', '--sweep', 'params.lr=1e-3,1e-2', '--sweep', 'params.model=small,big', '--concurrency', '2']);
  assert.equal(run.code, 0, run.stderr + run.stdout);
  assert.match(run.stderr, /^sweep: 4 variants, grid over params\.lr x params\.model\n {2}v1 {2}params\.lr=0\.001 {2}params\.model=small\n/);
  // The per-item stage ran once for the whole sweep (4 items), training once per variant.
  assert.equal((await ws.lines('prep.log')).length, 4);
  const train = await ws.lines('train.log');
  assert.deepEqual(train.filter((l) => l.startsWith('start')).map((l) => l.split(' ').slice(2, 4).join(' ')).sort(), ['lr=0.001 model=big', 'lr=0.001 model=small', 'lr=0.01 model=big', 'lr=0.01 model=small']);
  // --concurrency 2 is shared by all variants: never more than two trainings at once.
  const events = train.map((l) => l.split(' ')).map((p) => ({ start: p[0] === 'start', t: Number(p.at(-1)) })).sort((a, b) => a.t - b.t || (a.start ? 1 : -1));
  let running = 0;
  let most = 0;
  for (const e of events) most = Math.max(most, (running += e.start ? 1 : -1));
  assert.equal(most, 2, 'two trainings overlapped, never more');

  const table = run.stdout.split('\n');
  const row = (name: string) => table.find((l) => l.startsWith(name))!;
  assert.match(table[0], /^variant\s+params\.lr\s+params\.model\s+status\s+ran\s+cached\s+stage time\s+auc_macro \(higher is better\)\s+run$/);
  // Whichever variant got to a shared stage first ran it, the others reused it: 6 ran in all (the summary line).
  assert.match(row('v2 *'), /^v2 \*\s+0\.001\s+big\s+succeeded\s+[1-3]\s+[0-2]\s+\S+\s+0\.95 \[0\.93, 0\.97\]\s+\d{8}-/);
  assert.match(row('v3 '), /^v3\s+0\.01\s+small\s+succeeded.*0\.85 \[0\.83, 0\.87\]/);
  assert.match(run.stdout, /sweep (sweep-\S+): succeeded \(4 succeeded\); 6 stage instances ran, 6 reused/);
  assert.match(run.stdout, /best: v2 \(train\/auc_macro 0\.95 \[0\.93, 0\.97\]\); to make it the experiment's result and lock it: pipeline run exp\.yaml -S params\.lr=0\.001 -S params\.model=big/);
  const sweepId = /sweep (sweep-\S+):/.exec(run.stdout)![1];

  // Tracking: one parent tagged pipeline.sweep, four variant pipeline runs nested under it.
  const store = await FsStore.open(ws.storeDir, { durable: false });
  const reader = new LocalTrackReader(store);
  const parent = (await reader.getRun(sweepId))!;
  assert.equal(parent.tags['pipeline.sweep'], 'params.lr,params.model');
  assert.equal(parent.params['sweep.params.lr'], '[0.001, 0.01]');
  assert.equal(parent.metrics['best/auc_macro'], 0.95);
  const variants = (await reader.listRuns()).filter((r) => r.parentId === sweepId);
  assert.deepEqual(variants.map((v) => v.tags['pipeline.sweep.variant']).sort(), ['v1', 'v2', 'v3', 'v4']);
  assert.equal(parent.tags['pipeline.sweep.best_run'], variants.find((v) => v.tags['pipeline.sweep.variant'] === 'v2')!.id);
  for (const v of variants) assert.ok((await reader.children(v.id)).some((c) => c.name === 'train'), 'stage runs stay under their variant');

  // runs compare SWEEP: one table, swept params as columns, best marked.
  const compare = await ws.cli(['runs', 'compare', sweepId]);
  assert.equal(compare.code, 0, compare.stderr);
  const lines = compare.stdout.split('\n');
  assert.match(lines[0], new RegExp(`^sweep ${sweepId}: 4 variants over params\\.lr, params\\.model \\(\\* best\\)`));
  assert.match(lines[2], /^variant\s+params\.lr\s+params\.model\s+status\s+train\/auc_macro/);
  assert.match(compare.stdout, /\nv2 \*\s+0\.001\s+big\s+FINISHED\s+0\.95 \[0\.93, 0\.97\]/);
  assert.equal((await ws.cli(['runs', 'compare', variants[0].id])).code, 2, 'a single non-sweep run is not a comparison');

  // The dashboard groups the variants under the sweep with the swept params as columns.
  const dashboard = await startDashboard({ reader, port: 0 });
  try {
    const top = await (await fetch(`${dashboard.url}/`)).text();
    assert.match(top, new RegExp(`href="/\\?group=${sweepId}">4 variants</a>`));
    const group = await (await fetch(`${dashboard.url}/?group=${sweepId}`)).text();
    assert.equal([...group.matchAll(/<tr data-run="([^"]+)">/g)].length, 4);
    assert.deepEqual([...group.matchAll(/<th class="param"><a [^>]*>([^<]+)<\/a><\/th>/g)].map((m) => m[1]), ['params.lr', 'params.model', 'train.lr', 'train.model']);
  } finally {
    await dashboard.close();
  }

  // The same sweep again: everything cached. A sweep never writes pipeline.lock.
  const again = await ws.cli(['run', 'exp.yaml', '--sweep', 'params.lr=1e-3,1e-2', '--sweep', 'params.model=small,big']);
  assert.match(again.stdout, /0 stage instances ran, 12 reused/);
  assert.equal((await ws.lines('train.log')).length, 8);
  assert.equal((await ws.lines('pipeline.lock')).length, 0);
});

test('--sweep-random draws seeded variants from ranges; bad sweep values are located at their --sweep flag', async () => {
  const ws = await workspace(yaml.replace('ms: 250', 'ms: 1'));
  const args = ['run', 'exp.yaml', '--sweep-random', '3', '--sweep-seed', '5', '--sweep', 'params.lr=loguniform(1e-4,1e-2)', '--sweep', 'params.model=choice(small,big)'];
  const run = await ws.cli(args);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /^sweep: 3 variants, random search over params\.lr, params\.model \(seed 5\)/);
  const drawn = [...run.stderr.matchAll(/^ {2}v\d {2}params\.lr=(\S+) {2}params\.model=(\S+)$/gm)].map((m) => [Number(m[1]), m[2]] as const);
  assert.equal(drawn.length, 3);
  for (const [lr] of drawn) assert.ok(lr >= 1e-4 && lr <= 1e-2);
  const same = await ws.cli(args);
  assert.equal(same.stderr.split('\n').slice(0, 4).join('\n'), run.stderr.split('\n').slice(0, 4).join('\n'), 'same seed, same variants');
  assert.match(same.stdout, /0 stage instances ran/);

  const bad = await ws.cli(['run', 'exp.yaml', '--sweep', 'stages.train.with.lr=abc,1e-3', '--sweep', 'params.lr=uniform(1e-4,1e-2)']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /command line, --sweep params\.lr=uniform\(1e-4,1e-2\): error: params\.lr: a range \(uniform\) is sampled, not listed\n {2}hint: add --sweep-random N/);
  const badValue = await ws.cli(['run', 'exp.yaml', '--sweep', 'stages.train.with.lr=abc,1e-3']);
  assert.equal(badValue.code, 2);
  assert.match(badValue.stderr, /command line, --sweep stages\.train\.with\.lr=abc: error: stage train \(.*\): with\.lr: got "abc", expected a number/);
  assert.equal((await ws.cli(['run', 'exp.yaml', '--sweep-random', '3'])).code, 2);
});

test('-S on export and pull: the outputs of the run made with the same overrides, without --stale; other overrides are refused with the flags that fit', async () => {
  const a = await workspace(yaml.replace('ms: 250', 'ms: 1'));
  const set = ['-S', 'params.lr=1e-2'];
  const run = await a.cli(['run', 'exp.yaml', ...set]);
  assert.equal(run.code, 0, run.stderr);
  const locked = (await readLockedSection(a.file))!;
  assert.deepEqual(locked.overrides, ['params.lr=0.01']);

  const exported = await a.cli(['export', 'exp.yaml', 'train', join(a.dir, 'out'), ...set]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.equal(exported.stderr, '', 'no stale warning');
  assert.equal(JSON.parse(await readFile(join(a.dir, 'out', 'artifact.json'), 'utf8')).digest, locked.stages.train.output.artifact, 'the output the run made and locked');
  assert.deepEqual(JSON.parse(await readFile(join(a.dir, 'out', 'report.json'), 'utf8')), { auc: 0.85 });

  const refused = await a.cli(['export', 'exp.yaml', 'train', join(a.dir, 'out2')]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /error: the output of train is stale, so it is not exported:\n {2}train: param with\.lr changed 0\.01 -> 0\.001\n {2}hint: run it first \(pipeline run exp\.yaml --only train\), or pass --stale to export the last output anyway; pipeline\.lock's last run was made with other -S overrides, its outputs are exported by: pipeline export exp\.yaml train \S+out2 -S params\.lr=0\.01\n/);
  const other = await a.cli(['export', 'exp.yaml', 'train', join(a.dir, 'out2'), '-S', 'params.lr=0.1']);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /hint: run it first \(pipeline run exp\.yaml -S params\.lr=0\.1 --only train\), .*exported by: pipeline export exp\.yaml train \S+out2 -S params\.lr=0\.01\n/);
  const bad = await a.cli(['export', 'exp.yaml', 'train', join(a.dir, 'out2'), '-S', 'params.lrr=1', '-S', 'lr']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /command line, --set lr: error: expected PATH=VALUE, got "lr"/);

  // pull without a lock pulls what a run with the same -S would reuse; without them, train is not on the remote.
  const remote = join(a.dir, 'remote');
  assert.equal((await a.cli(['push', 'exp.yaml', '--remote', remote])).code, 0);
  const b = await workspace(yaml.replace('ms: 250', 'ms: 1'));
  const plain = await b.cli(['pull', 'exp.yaml', '--remote', remote]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /pulled 2 stage output\(s\) a run would reuse, 0 were here already; not on the remote \(they will run\): train/);
  const pulled = await b.cli(['pull', 'exp.yaml', '--remote', remote, ...set]);
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stdout, /pulled 1 stage output\(s\) a run would reuse, 2 were here already\n/);
  const there = await b.cli(['export', 'exp.yaml', 'train', join(b.dir, 'out'), ...set]);
  assert.equal(there.code, 0, there.stderr);
  assert.equal(await readFile(join(b.dir, 'out', 'report.json'), 'utf8'), await readFile(join(a.dir, 'out', 'report.json'), 'utf8'));
  assert.equal(await readFile(join(b.dir, 'out', 'artifact.json'), 'utf8'), await readFile(join(a.dir, 'out', 'artifact.json'), 'utf8'));
  // schedule -S runs with the overrides: everything is cached (without them, train would run at lr 0.001).
  const scheduled = await b.cli(['schedule', 'exp.yaml', '--once', ...set]);
  assert.equal(scheduled.code, 0, scheduled.stderr);
  assert.deepEqual(await b.lines('train.log'), [], 'nothing ran in b');
  assert.equal((await b.cli(['schedule', 'exp.yaml', '--once', '-S', 'params.lrr=1'])).code, 2);
  assert.equal((await b.cli(['pull', '--remote', remote, ...set])).code, 2, '-S needs FILE');
});

test('checkout -S: flags other than those of pipeline.lock\'s last run draw a warning naming both and what is restored; the same flags none', async () => {
  const ws = await workspace(yaml.replace('ms: 250', 'ms: 1'));
  assert.equal((await ws.cli(['run', 'exp.yaml', '-S', 'params.lr=1e-2'])).code, 0);
  const locked = (await readLockedSection(ws.file))!;

  const same = await ws.cli(['checkout', 'exp.yaml', 'train', join(ws.dir, 'same'), '-S', 'params.lr=1e-2']);
  assert.equal(same.code, 0, same.stderr);
  assert.equal(same.stderr, '', 'no warning with the lock\'s own flags');

  const plain = await ws.cli(['checkout', 'exp.yaml', 'train', join(ws.dir, 'plain')]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stderr, /^warning: pipeline\.lock's last run was made with -S params\.lr=0\.01, this checkout has no -S overrides: the restored outputs are that run's \(the lock's\), not those of the experiment with this command's -S flags\nhint: pipeline status exp\.yaml lists what differs; pipeline run exp\.yaml makes \(and locks\) the outputs for these flags\n$/);
  assert.equal(JSON.parse(await readFile(join(ws.dir, 'plain', 'artifact.json'), 'utf8')).digest, locked.stages.train.output.artifact, 'the lock\'s output all the same');

  const other = await ws.cli(['checkout', 'exp.yaml', '-S', 'params.lr=0.1', '-S', 'params.model=big']);
  assert.equal(other.code, 0, other.stderr);
  assert.match(other.stderr, /made with -S params\.lr=0\.01, this checkout has -S params\.lr=0\.1 -S params\.model=big: the restored outputs are that run's/);
  assert.match(other.stderr, /hint: pipeline status exp\.yaml -S params\.lr=0\.1 -S params\.model=big lists what differs/);
  assert.match(other.stdout, /restored 3 locked stage output\(s\)/);

  // a lock written without -S, checked out with some
  assert.equal((await ws.cli(['run', 'exp.yaml'])).code, 0);
  const added = await ws.cli(['checkout', 'exp.yaml', '-S', 'params.lr=1e-2']);
  assert.match(added.stderr, /^warning: pipeline\.lock's last run was made with no -S overrides, this checkout has -S params\.lr=0\.01:/);
  // export's stale hint, which shares the comparison, names that run too (it said nothing of it before)
  const stale = await ws.cli(['export', 'exp.yaml', 'train', join(ws.dir, 'out'), '-S', 'params.lr=0.1']);
  assert.equal(stale.code, 2);
  assert.match(stale.stderr, /pipeline\.lock's last run was made with no -S overrides, its outputs are exported by: pipeline export exp\.yaml train \S+out\n/);
});
