import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunRecorder, type RunRecord } from '../../src/engine/run-record.ts';
import type { PipelineEvent } from '../../src/engine/events.ts';
import { Collections, type Store } from '../../src/store/store.ts';
import { tempStore } from '../../src/testing/harness.ts';

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
