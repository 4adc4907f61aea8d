import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workspace } from '../support/workspace.ts';
import { FsStore } from '../../src/store/fs-store.ts';
import { listRuns } from '../../src/engine/run-record.ts';

const yaml = `
stages:
  source: { uses: $FIXTURES/source.ts, with: { n: 60 } }
  slow: { uses: $FIXTURES/count.ts, from: source, with: { log: processed.log, delay_ms: 40 } }
`;

test('SIGKILL mid-stage leaves no completed entry; the rerun reuses finished stages and items', async () => {
  const ws = await workspace(yaml);
  let killed = false;
  const first = await ws.cli(['run', 'exp.yaml', '--concurrency', '2'], {
    poll: async (child) => {
      if (killed) return;
      if ((await ws.lines('processed.log')).length >= 15) {
        killed = true;
        child.kill('SIGKILL');
      }
    },
  });
  assert.equal(first.signal, 'SIGKILL');
  const doneBeforeKill = (await ws.lines('processed.log')).length;
  assert.ok(doneBeforeKill >= 15 && doneBeforeKill < 60, `killed after ${doneBeforeKill} items`);

  const plan = await ws.plan();
  assert.equal(plan.source.action, 'cached', 'the finished stage was committed');
  assert.equal(plan.slow.action, 'run', 'the killed stage is not taken as complete');

  const second = await ws.cli(['run', 'exp.yaml', '--concurrency', '2']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /source\s+cached/);
  assert.match(second.stdout, /slow\s+ran/);
  const lines = await ws.lines('processed.log');
  const reprocessed = lines.length - 60;
  // Items whose result was committed before the kill are reused; at most the in-flight ones (concurrency 2) run twice.
  assert.ok(reprocessed <= 2, `${reprocessed} items were processed twice`);
  assert.deepEqual([...new Set(lines)].length, 60);

  const runs = await listRuns(await FsStore.open(ws.storeDir));
  assert.equal(runs.length, 2);
  assert.equal(runs[0].status, 'running', 'the killed run never recorded an end');
  assert.equal(runs[1].status, 'succeeded');
  const list = await ws.cli(['runs', 'list']);
  assert.match(list.stdout, new RegExp(`${runs[0].id}\\s+exp\\s+interrupted`));
});

test('SIGINT stops cleanly: exit 130, run recorded as cancelled, nothing half-committed', async () => {
  const ws = await workspace(yaml);
  let sent = false;
  const run = await ws.cli(['run', 'exp.yaml'], {
    poll: async (child) => {
      if (!sent && (await ws.lines('processed.log')).length >= 5) {
        sent = true;
        child.kill('SIGINT');
      }
    },
  });
  assert.equal(run.code, 130, run.stderr);
  assert.match(run.stdout, /slow\s+cancelled/);
  const [record] = await listRuns(await FsStore.open(ws.storeDir));
  assert.equal(record.status, 'cancelled');
  assert.equal((await ws.plan()).slow.action, 'run');
});
