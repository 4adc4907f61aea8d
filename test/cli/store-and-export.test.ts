import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, runCli } from '../support/workspace.ts';
import { projectRoot } from '../../src/store/open.ts';

const experiment = `
stages:
  note: { uses: ${FIXTURES}/read-file.ts, with: { file: note.txt } }
  source: { uses: ${FIXTURES}/source.ts, with: { n: 3 } }
  double: { uses: ${FIXTURES}/count.ts, from: source, with: { log: p.log } }
`;

/** Every path under `dir` with its size and mtime: what "creates or writes nothing" is checked against. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const s = await stat(p);
      out.push(`${p.slice(dir.length)} ${e.isDirectory() ? 'dir' : s.size} ${s.mtimeMs}`);
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out.sort();
}

/** A project: package.json at the top, the experiment in experiments/. */
async function project() {
  const root = await mkdtemp(join(tmpdir(), 'pipeline-project-'));
  await writeFile(join(root, 'package.json'), '{"name": "my-study", "private": true}\n');
  await mkdir(join(root, 'experiments'));
  await writeFile(join(root, 'experiments', 'exp.yaml'), experiment);
  await writeFile(join(root, 'experiments', 'note.txt'), 'v1');
  return root;
}

test('the default store belongs to the project: the nearest folder up with .pipeline, .git or package.json', async () => {
  const root = await project();
  assert.equal(projectRoot(join(root, 'experiments')), root);
  const bare = await mkdtemp(join(tmpdir(), 'pipeline-bare-'));
  assert.equal(projectRoot(bare), bare, 'no marker anywhere up: the folder itself');
  await mkdir(join(bare, '.pipeline'));
  await mkdir(join(bare, 'a', 'b'), { recursive: true });
  assert.equal(projectRoot(join(bare, 'a', 'b')), bare, 'an existing store marks the project too');

  // Run from experiments/, plan from the top and from experiments/: one store, everything cached.
  const run = await runCli(['run', 'exp.yaml'], join(root, 'experiments'));
  assert.equal(run.code, 0, run.stderr);
  assert.ok((await stat(join(root, '.pipeline'))).isDirectory());
  await assert.rejects(stat(join(root, 'experiments', '.pipeline')), 'no second store in the sub-folder');
  for (const [cwd, file] of [[root, 'experiments/exp.yaml'], [join(root, 'experiments'), 'exp.yaml']]) {
    const plan = await runCli(['plan', file], cwd);
    assert.match(plan.stdout, /0 of 3 stage instances will run/, `plan from ${cwd}: ${plan.stdout}${plan.stderr}`);
  }
  // --store and PIPELINE_STORE still win.
  const elsewhere = join(root, 'other-store');
  assert.match((await runCli(['plan', 'exp.yaml', '--store', elsewhere], join(root, 'experiments'))).stdout, /3 of 3 stage instances will run/);
  assert.match((await runCli(['plan', 'exp.yaml'], join(root, 'experiments'), { env: { PIPELINE_STORE: elsewhere } })).stdout, /3 of 3 stage instances will run/);
});

test('plan creates and writes nothing: not on a folder never run, not in a store whose inputs changed', async () => {
  const root = await project();
  const before = await snapshot(root);
  const first = await runCli(['plan', 'experiments/exp.yaml'], root);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /3 of 3 stage instances will run/);
  assert.deepEqual(await snapshot(root), before, 'plan on a project never run created files');

  assert.equal((await runCli(['run', 'experiments/exp.yaml'], root)).code, 0);
  await writeFile(join(root, 'experiments', 'note.txt'), 'v2, a new content');
  const storeBefore = await snapshot(join(root, '.pipeline'));
  const plan = await runCli(['plan', 'experiments/exp.yaml', '--json'], root);
  assert.deepEqual(JSON.parse(plan.stdout).map((p: { instance: string; action: string; reasons: string[] }) => [p.instance, p.action, p.reasons]), [
    ['note', 'run', ['file content of with.file changed']],
    ['source', 'cached', []],
    ['double', 'cached', []],
  ]);
  assert.deepEqual(await snapshot(join(root, '.pipeline')), storeBefore, 'plan wrote into the store (e.g. file-hash memos)');
  // export and runs only read too.
  const out = join(root, 'out');
  assert.equal((await runCli(['export', 'experiments/exp.yaml', 'double', out], root)).code, 0);
  assert.equal((await runCli(['runs', 'list'], root)).code, 0);
  assert.deepEqual(await snapshot(join(root, '.pipeline')), storeBefore);
});

test('status creates and writes nothing: not on a project never run, not in the store or the project when a read file changed', async () => {
  const root = await project();
  const before = await snapshot(root);
  const never = await runCli(['status', 'experiments/exp.yaml'], root);
  assert.equal(never.code, 0, never.stderr);
  assert.match(never.stdout, /nothing is locked yet/);
  assert.deepEqual(await snapshot(root), before, 'status on a project never run created files (the store)');

  assert.equal((await runCli(['run', 'experiments/exp.yaml'], root)).code, 0);
  // A new content (and size) for a file the experiment reads: its memoised hash is stale, so hashing
  // it again would update the memo in the store if status were allowed to write.
  await writeFile(join(root, 'experiments', 'note.txt'), 'v2, a new content');
  const projectBefore = await snapshot(root);
  const status = await runCli(['status', 'experiments/exp.yaml', '--json'], root);
  assert.equal(status.code, 0, status.stderr);
  const note = JSON.parse(status.stdout).instances.find((i: { id: string }) => i.id === 'note');
  assert.deepEqual([note.state, note.reasons], ['changed', ['file content of with.file changed (note.txt)']]);
  assert.deepEqual(await snapshot(root), projectBefore, 'status wrote into the store or the project (e.g. file-hash memos)');
});

test('export refuses a stale output with the reason plan gives, unless --stale; a current one exports', async () => {
  const root = await project();
  const cli = (...args: string[]) => runCli(args, root);
  assert.equal((await cli('run', 'experiments/exp.yaml')).code, 0);
  const out = join(root, 'out');
  assert.equal((await cli('export', 'experiments/exp.yaml', 'double', out)).code, 0);
  assert.equal((await readFile(join(out, 'manifest.csv'), 'utf8')).trim().split('\n').length, 4);

  // The upstream param changes: double's output no longer matches the experiment.
  const file = join(root, 'experiments', 'exp.yaml');
  await writeFile(file, experiment.replace('n: 3', 'n: 5'));
  const refused = await cli('export', 'experiments/exp.yaml', 'double', join(root, 'out2'));
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /error: the output of double is stale, so it is not exported:\n {2}double: input source will run\n {2}hint: run it first \(pipeline run experiments\/exp\.yaml --only double\), or pass --stale/);
  await assert.rejects(stat(join(root, 'out2')), 'nothing written');
  const sourceRefused = await cli('export', 'experiments/exp.yaml', 'source', join(root, 'out2'));
  assert.match(sourceRefused.stderr, /source: param with\.n changed 3 -> 5/);

  const forced = await cli('export', 'experiments/exp.yaml', 'double', join(root, 'out3'), '--stale');
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /warning: exporting the stale output of double \(input source will run\)/);
  assert.equal((await readFile(join(root, 'out3', 'manifest.csv'), 'utf8')).trim().split('\n').length, 4, 'the old 3 rows');

  // After a run it is current again; back to the old param, the old output is current (its key is cached).
  assert.equal((await cli('run', 'experiments/exp.yaml')).code, 0);
  assert.equal((await cli('export', 'experiments/exp.yaml', 'double', join(root, 'out4'))).code, 0);
  assert.equal((await readFile(join(root, 'out4', 'manifest.csv'), 'utf8')).trim().split('\n').length, 6);
  await writeFile(file, experiment);
  assert.equal((await cli('export', 'experiments/exp.yaml', 'double', join(root, 'out5'))).code, 0);
  assert.equal((await readFile(join(root, 'out5', 'manifest.csv'), 'utf8')).trim().split('\n').length, 4);
  // A changed input file is stale too.
  await rename(join(root, 'experiments', 'note.txt'), join(root, 'experiments', 'note.old'));
  await writeFile(join(root, 'experiments', 'note.txt'), 'changed');
  assert.match((await cli('export', 'experiments/exp.yaml', 'note', join(root, 'out6'))).stderr, /note: file content of with\.file changed/);
});
