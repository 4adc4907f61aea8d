import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { workspace } from '../support/workspace.ts';
import { sha256 } from '../../src/util/hash.ts';

// Issue 14 item 3: pipeline.lock written by a successful run, `status` against it after edits, and
// `checkout` restoring locked outputs from the store without running anything.
const yaml = (n: number, extra = '') => `
name: lock-test
stages:
  data: { uses: $FIXTURES/read-file.ts, with: { file: input.txt } }
  source: { uses: $FIXTURES/source.ts, with: { n: ${n} } }
  double: { uses: $FIXTURES/count.ts, from: source, with: { log: p.log } }
  train: { uses: $FIXTURES/sleep.ts, from: double, foreach: { fold: "range(2)" }, with: { ms: 1, log: t.log } }
${extra}`;

test('lock round trip: written by a run, byte-identical after a cached rerun, sorted and complete', async () => {
  const ws = await workspace(yaml(3), { 'input.txt': 'hello' });
  const run = await ws.cli(['run', 'exp.yaml']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /pipeline\.lock: updated \(5 stage instances\)/);
  const text = await readFile(join(ws.dir, 'pipeline.lock'), 'utf8');
  assert.match(text, /^# pipeline\.lock: /);
  const lock = parse(text);
  assert.equal(lock.version, 1);
  const section = lock.experiments['exp.yaml'];
  assert.equal(section.name, 'lock-test');
  assert.equal(section.file_sha256, sha256(await readFile(ws.file)));
  assert.deepEqual(Object.keys(section.stages), ['data', 'double', 'source', 'train[fold=0]', 'train[fold=1]']);
  const train = section.stages['train[fold=1]'];
  assert.deepEqual(Object.keys(train), [...Object.keys(train)].sort(), 'keys sorted in every entry');
  assert.deepEqual(train.foreach, { fold: 1 });
  assert.deepEqual(train.params, { fail: false, log: 't.log', ms: 1 });
  assert.equal(train.inputs.double, section.stages.double.output.artifact, 'inputs are the upstream outputs');
  assert.deepEqual(section.stages.data.files, { 'with.file': { path: 'input.txt', sha256: sha256('hello') } });
  assert.equal(section.stages.source.output.kind, 'dataset');
  // Every recorded key is what the run computed (the run record has the same keys).
  const record = JSON.parse((await ws.cli(['runs', 'show', 'last', '--json'])).stdout);
  for (const i of record.instances) assert.equal(section.stages[i.id].key, i.cacheKey, i.id);

  const again = await ws.cli(['run', 'exp.yaml']);
  assert.match(again.stdout, /pipeline\.lock: unchanged/);
  assert.equal(await readFile(join(ws.dir, 'pipeline.lock'), 'utf8'), text, 'a cached rerun changes no byte: no git diff');
  const status = await ws.cli(['status', 'exp.yaml']);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(status.stdout.trim(), 'pipeline.lock: 5 stage instances up to date');
  assert.equal((await ws.cli(['status', 'exp.yaml', '-q'])).code, 0);
});

test('status after edits says what changed and why; --only updates only what ran; a failed run writes nothing', async () => {
  const ws = await workspace(yaml(3), { 'input.txt': 'hello' });
  assert.equal((await ws.cli(['run', 'exp.yaml'])).code, 0);
  await ws.write(yaml(4, '  extra: { uses: $FIXTURES/source.ts, with: { n: 1 } }\n').replace(/\n {2}train:.*\n/, '\n'));
  await writeFile(join(ws.dir, 'input.txt'), 'changed');
  const status = await ws.cli(['status', 'exp.yaml']);
  assert.equal(status.code, 0, status.stderr);
  const line = (id: string) => status.stdout.split('\n').find((l) => l.startsWith(id + ' '))!;
  assert.match(status.stdout, /^pipeline\.lock: 6 of 6 stage instances not up to date/);
  assert.match(line('data'), /changed\s+file content of with\.file changed \(input\.txt\)/);
  assert.match(line('source'), /changed\s+param with\.n changed 3 -> 4/);
  assert.match(line('double'), /changed\s+upstream source changed/);
  assert.match(line('extra'), /new\s+not in the lock/);
  assert.match(line('train[fold=0]'), /removed\s+in the lock, no longer in the experiment/);
  assert.equal((await ws.cli(['status', 'exp.yaml', '--quiet'])).code, 1);
  const json = JSON.parse((await ws.cli(['status', 'exp.yaml', '--json'])).stdout);
  assert.deepEqual(json.instances.map((i: any) => [i.id, i.state]), [['data', 'changed'], ['source', 'changed'], ['double', 'changed'], ['extra', 'new'], ['train[fold=0]', 'removed'], ['train[fold=1]', 'removed']]);

  // --only data: its entry is updated, the others stay as locked (and train is dropped: it is gone).
  assert.equal((await ws.cli(['run', 'exp.yaml', '--only', 'data'])).code, 0);
  const after = await ws.cli(['status', 'exp.yaml']);
  assert.doesNotMatch(after.stdout, /^data /m);
  assert.match(after.stdout, /^source\s+changed/m);
  assert.deepEqual(Object.keys(parse(await readFile(join(ws.dir, 'pipeline.lock'), 'utf8')).experiments['exp.yaml'].stages), ['data', 'double', 'source']);

  // A failed run leaves the lock alone.
  const before = await readFile(join(ws.dir, 'pipeline.lock'), 'utf8');
  await ws.write(yaml(4, '  bad: { uses: $FIXTURES/sleep.ts, with: { ms: 1, log: t.log, fail: true } }\n'));
  assert.equal((await ws.cli(['run', 'exp.yaml'])).code, 1);
  assert.equal(await readFile(join(ws.dir, 'pipeline.lock'), 'utf8'), before);

  // A run with --set records its overrides, and status says the file alone differs from them.
  await ws.write(yaml(4));
  assert.equal((await ws.cli(['run', 'exp.yaml', '-S', 'stages.source.with.n=2'])).code, 0);
  assert.deepEqual(parse(await readFile(join(ws.dir, 'pipeline.lock'), 'utf8')).experiments['exp.yaml'].overrides, ['stages.source.with.n=2']);
  const withSet = await ws.cli(['status', 'exp.yaml']);
  assert.match(withSet.stdout, /^source\s+changed\s+param with\.n changed 2 -> 4/m);
  assert.match(withSet.stdout, /the lock was written with command-line overrides: stages\.source\.with\.n=2; compared now with the file as it is/);
  assert.match((await ws.cli(['status', 'exp.yaml', '-S', 'stages.source.with.n=2'])).stdout, /^pipeline\.lock: 5 stage instances up to date/);
});

test('checkout restores the locked outputs (latest output, files) without running; a missing blob is an error that suggests pull', async () => {
  const ws = await workspace(yaml(3), { 'input.txt': 'hello' });
  assert.equal((await ws.cli(['run', 'exp.yaml'])).code, 0);
  // A run that is not locked moves the latest outputs to 5 items.
  await ws.write(yaml(5));
  assert.equal((await ws.cli(['run', 'exp.yaml', '--no-lock'])).code, 0);
  assert.equal((await ws.cli(['export', 'exp.yaml', 'double', join(ws.dir, 'now')])).code, 0);
  assert.equal((await readFile(join(ws.dir, 'now', 'manifest.csv'), 'utf8')).trim().split('\n').length, 6);
  const workDone = (await ws.lines('p.log')).length;

  const checkout = await ws.cli(['checkout', 'exp.yaml', 'double', join(ws.dir, 'locked')]);
  assert.equal(checkout.code, 0, checkout.stderr);
  assert.match(checkout.stdout, /double: \d+ files -> locked\nrestored 1 locked stage output\(s\)/);
  assert.equal(await readFile(join(ws.dir, 'locked', 'manifest.csv'), 'utf8'), 'id,y\nitem0,0\nitem1,2\nitem2,4\n');
  // export gives the output of the experiment as the file says now (5 items, in the store), not the
  // checked-out one: that one no longer matches the file (export refuses stale outputs).
  assert.equal((await ws.cli(['export', 'exp.yaml', 'double', join(ws.dir, 'again')])).code, 0);
  assert.equal((await readFile(join(ws.dir, 'again', 'manifest.csv'), 'utf8')).trim().split('\n').length, 6, 'export follows the experiment file');
  const all = await ws.cli(['checkout', 'exp.yaml', 'train', join(ws.dir, 'models')]);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(await readFile(join(ws.dir, 'models', 'fold=1', 'id.txt'), 'utf8'), 'train[fold=1]');
  assert.equal((await ws.lines('p.log')).length, workDone, 'nothing ran');
  assert.equal((await ws.cli(['checkout', 'exp.yaml', 'dubble'])).code, 2);

  // A blob of a locked output is gone: checkout names it and suggests pull; status says "not in store".
  const lock = parse(await readFile(join(ws.dir, 'pipeline.lock'), 'utf8')).experiments['exp.yaml'];
  const manifest = JSON.parse(await readFile(join(ws.storeDir, 'docs', 'artifacts', lock.stages.double.output.artifact.slice(0, 2), `${lock.stages.double.output.artifact}.json`), 'utf8'));
  await rm(join(ws.storeDir, 'blobs', manifest.rows.slice(0, 2), manifest.rows));
  const broken = await ws.cli(['checkout', 'exp.yaml']);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /error: 1 locked output\(s\) are not in the store:\n {2}double: 1 blob\(s\) of output [0-9a-f]{12}\nhint: fetch them with pipeline pull exp\.yaml/);
  await ws.write(yaml(3));
  const status = await ws.cli(['status', 'exp.yaml']);
  assert.match(status.stdout, /^double\s+not in store\s+output [0-9a-f]{12} lacks 1 blob\(s\) in the store/m);
  assert.match(status.stdout, /pipeline pull exp\.yaml/);
});

test('a damaged lock is reported with its location', async () => {
  const ws = await workspace(yaml(3), { 'input.txt': 'hello' });
  await writeFile(join(ws.dir, 'pipeline.lock'), 'version: 1\nexperiments:\n  exp.yaml:\n    name: x\n    file_sha256: nothex\n    stages: {}\n');
  const status = await ws.cli(['status', 'exp.yaml']);
  assert.equal(status.code, 2);
  assert.match(status.stderr, /pipeline\.lock:5:18: error: pipeline\.lock: experiments\.exp\.yaml\.file_sha256: a sha256 digest/);
  assert.equal((await ws.cli(['status', 'exp.yaml'], {})).code, 2);
  await rm(join(ws.dir, 'pipeline.lock'));
  assert.match((await ws.cli(['status', 'exp.yaml'])).stdout, /nothing is locked yet/);
  assert.match((await ws.cli(['checkout', 'exp.yaml'])).stderr, /has no entry for exp\.yaml: run pipeline run/);
});
