import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listRuns, RunRecorder, type RunRecord } from '../../src/engine/run-record.ts';
import type { PipelineEvent } from '../../src/engine/events.ts';
import { Collections, type Store } from '../../src/store/store.ts';
import { tempStore } from '../../src/testing/harness.ts';
import { execFileSync } from 'node:child_process';
import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, runCli } from '../support/workspace.ts';
import { FsStore } from '../../src/store/fs-store.ts';

const record = (): RunRecord => ({ id: `run-${Math.random().toString(36).slice(2)}`, experiment: 'x', file: 'x.yaml', fileHash: '0', argv: [], pid: 1, status: 'running', startedAt: 1, instances: [] });
const end = (instance: string): PipelineEvent => ({ type: 'instance-end', runId: 'r', instance, stage: instance, uses: 'test', params: {}, status: 'cached', durationMs: 1, time: 2 });

test('RunRecorder: a burst of instance ends is one write; the run end is written; close leaves the record complete', async () => {
  const store = await tempStore();
  let writes = 0;
  const counting = Object.create(store, { putDoc: { value: (...args: Parameters<Store['putDoc']>) => (writes++, store.putDoc(...args)) } }) as Store;
  const recorder = new RunRecorder(counting, record());
  for (let i = 0; i < 20; i++) recorder.handle(end(`s${i}`));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(writes, 1);
  assert.equal((await store.getDoc<RunRecord>(Collections.runs, recorder.record.id))?.instances.length, 20);
  recorder.handle({ type: 'run-end', runId: 'r', status: 'succeeded', durationMs: 5, time: 9 });
  await recorder.close();
  assert.equal(writes, 2);
  assert.deepEqual((await store.getDoc<RunRecord>(Collections.runs, recorder.record.id))?.endedAt, 9);
});

test('RunRecorder: a failing store never raises an unhandled rejection; close reports it; later writes still happen', async () => {
  const store = await tempStore();
  let fail = true;
  const flaky = Object.create(store, { putDoc: { value: async (...args: Parameters<Store['putDoc']>) => { if (fail) throw new Error('disk full'); return store.putDoc(...args); } } }) as Store;
  const recorder = new RunRecorder(flaky, record());
  recorder.handle(end('a'));
  await new Promise((resolve) => setTimeout(resolve, 300)); // the batched write fails in the background
  fail = false;
  recorder.handle({ type: 'run-end', runId: 'r', status: 'succeeded', durationMs: 5, time: 9 });
  await recorder.close();
  assert.equal((await store.getDoc<RunRecord>(Collections.runs, recorder.record.id))?.status, 'succeeded');
  fail = true;
  const second = new RunRecorder(flaky, record());
  second.handle({ type: 'run-end', runId: 'r', status: 'failed', durationMs: 5, time: 9 });
  await assert.rejects(second.close(), /disk full/);
});

test('run records say whether the working tree was dirty, and which tracked files differed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-git-'));
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.org', '-c', 'user.name=t', ...args], { cwd: dir, encoding: 'utf8' });
  git('init', '-q');
  await writeFile(join(dir, 'exp.yaml'), `stages:\n  a: { uses: ${FIXTURES}/source.ts, with: { n: 2 } }\n`);
  await writeFile(join(dir, 'notes.md'), 'notes\n');
  await writeFile(join(dir, '.gitignore'), '.pipeline/\n');
  git('add', '.');
  git('commit', '-qm', 'start');
  const store = join(dir, '.pipeline');
  const records = async () => listRuns(await FsStore.open(store));

  assert.equal((await runCli(['run', 'exp.yaml'], dir)).code, 0);
  await writeFile(join(dir, 'untracked-data.csv'), 'a,b\n');
  assert.equal((await runCli(['run', 'exp.yaml'], dir)).code, 0, 'untracked files (data, outputs) do not make it dirty');
  await appendFile(join(dir, 'notes.md'), 'an uncommitted edit\n');
  assert.equal((await runCli(['run', 'exp.yaml'], dir)).code, 0);
  const [clean, stillClean, dirty] = await records();
  const head = git('rev-parse', 'HEAD').trim();
  assert.deepEqual([clean.gitCommit, clean.gitDirty, clean.gitChanged], [head, false, []]);
  assert.equal(stillClean.gitDirty, false);
  assert.deepEqual([dirty.gitCommit, dirty.gitDirty, dirty.gitChanged], [head, true, ['notes.md']]);
  const show = await runCli(['runs', 'show', dirty.id], dir);
  assert.match(show.stdout, new RegExp(`git +${head} \\+ uncommitted changes to 1 tracked file\\(s\\): notes\\.md`));
  assert.match((await runCli(['runs', 'show', clean.id], dir)).stdout, new RegExp(`git +${head} \\(clean working tree\\)`));
});
