import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { workspace, runCli, REPO } from '../support/workspace.ts';
import { commands } from '../../src/cli/commands/index.ts';
import { OVERRIDE_HELP, OVERRIDE_USAGE } from '../../src/cli/override-options.ts';

const yaml = `
name: cli-test
params: { folds: 2 }
stages:
  source: { uses: $FIXTURES/source.ts, with: { n: 3 } }
  double: { uses: $FIXTURES/count.ts, from: source, with: { log: p.log } }
  train: { uses: $FIXTURES/sleep.ts, from: double, foreach: { fold: "range(\${params.folds})" }, with: { ms: 5, log: t.log } }
`;

test('every command answers --help with its usage and exit code 0', async () => {
  for (const c of commands) {
    const r = await runCli([c.name, '--help'], REPO);
    assert.equal(r.code, 0, `${c.name} --help: ${r.stderr}`);
    assert.match(r.stdout, /usage: pipeline /);
  }
  const runs = await runCli(['runs', '--help'], REPO);
  assert.match(runs.stdout, /usage: pipeline runs list\|show ID \[--json\]\|compare\|sync \[--store DIR\]/, 'the sub-commands by name, no placeholder');
  const top = await runCli(['--help'], REPO);
  assert.match(top.stdout, /commands:\n\s+run/);
});

test('every command that loads an experiment FILE takes -S with the one shared help', async () => {
  const takesFile: string[] = [];
  for (const c of commands) {
    const help = (await c.load()).help;
    const usage = help.split('\n')[0];
    if (!/^usage: pipeline \S+ \[?FILE\b/.test(usage)) continue;
    takesFile.push(c.name);
    assert.ok(usage.includes(OVERRIDE_USAGE), `${c.name}: ${usage}`);
    assert.ok(help.includes(OVERRIDE_HELP), `${c.name} --help lacks -S`);
  }
  assert.deepEqual(takesFile.sort(), ['checkout', 'dag', 'export', 'plan', 'pull', 'push', 'run', 'schedule', 'status']);
});

test('bad config exits 2 with a located diagnostic; unknown flags and commands exit 2', async () => {
  const ws = await workspace('stages:\n  a: { uses: nope }\n');
  const r = await ws.cli(['run', 'exp.yaml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /exp\.yaml:2:14: error: unknown stage type "nope"/);
  assert.equal((await ws.cli(['run', 'exp.yaml', '--bogus'])).code, 2);
  const unknown = await ws.cli(['rnu']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /did you mean "run"/);
});

test('run, plan, dag, runs list/show, export and gc work together', async () => {
  const ws = await workspace(yaml);
  const run = await ws.cli(['run', 'exp.yaml']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /train\[fold=1\]\s+ran/);
  assert.match(run.stderr, /double: 3\/3/);

  const plan = await ws.cli(['plan', 'exp.yaml']);
  assert.match(plan.stdout, /0 of 4 stage instances will run/);

  const mermaid = await ws.cli(['dag', 'exp.yaml', '--format', 'mermaid']);
  assert.match(mermaid.stdout, /^flowchart TD/);
  assert.match(mermaid.stdout, /n1 --> n2/);
  const dot = await ws.cli(['dag', 'exp.yaml', '--format', 'dot']);
  assert.match(dot.stdout, /"double" -> "train\[fold=0\]";/);
  const text = await ws.cli(['dag', 'exp.yaml']);
  assert.match(text.stdout, /train\[fold=1\] \(.*sleep\.ts\)\s+<- double/);

  const list = await ws.cli(['runs', 'list']);
  assert.match(list.stdout, /cli-test\s+succeeded/);
  const show = await ws.cli(['runs', 'show', 'last']);
  assert.match(show.stdout, /double\s+ran/);

  const out = join(ws.dir, 'export');
  const exp = await ws.cli(['export', 'exp.yaml', 'double', out]);
  assert.equal(exp.code, 0, exp.stderr);
  assert.equal(await readFile(join(out, 'manifest.csv'), 'utf8'), 'id,y\nitem0,0\nitem1,2\nitem2,4\n');
  const fan = await ws.cli(['export', 'exp.yaml', 'train', join(ws.dir, 'fan')]);
  assert.equal(fan.code, 0, fan.stderr);
  assert.deepEqual((await readdir(join(ws.dir, 'fan'))).sort(), ['fold=0', 'fold=1']);
  assert.equal(await readFile(join(ws.dir, 'fan', 'fold=1', 'id.txt'), 'utf8'), 'train[fold=1]');

  const gc0 = await ws.cli(['gc']);
  assert.match(gc0.stdout, /freed 0 artifacts, 0 cache entries, 0 item results, 0 training checkpoints, 0 blobs/);
  await ws.write(yaml.replace('n: 3', 'n: 2'));
  assert.equal((await ws.cli(['run', 'exp.yaml'])).code, 0);
  const gc1 = await ws.cli(['gc']);
  assert.match(gc1.stdout, /freed [1-9]\d* artifacts, [1-9]\d* cache entries, 1 item results, 0 training checkpoints, [1-9]\d* blobs/);
  assert.match((await ws.cli(['plan', 'exp.yaml'])).stdout, /0 of 4 stage instances will run/);
});

test('a failed stage exits 1 and the summary names the error', async () => {
  const ws = await workspace('stages:\n  bad: { uses: $FIXTURES/sleep.ts, with: { ms: 1, log: t.log, fail: true } }\n');
  const r = await ws.cli(['run', 'exp.yaml']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /bad\s+failed/);
  assert.match(r.stdout, /bad failed on purpose/);
});
