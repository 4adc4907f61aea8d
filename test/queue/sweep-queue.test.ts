import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { redisMissing, RedisServer } from '../support/redis-server.ts';
import { WorkerProcess, FAST_STALL } from '../support/pipeline-worker.ts';
import { runCli, workspace } from '../support/workspace.ts';

// Issue 14 item 2: a sweep with a queue configured runs its variants' stages on `pipeline worker`s (real
// redis-server and worker processes sharing the folder store), the shared stages once for all variants.
const skip = redisMissing;
let redis: RedisServer;
let ws: Awaited<ReturnType<typeof workspace>>;
const workers: WorkerProcess[] = [];

before(async () => {
  if (skip) return;
  redis = await new RedisServer().start();
  ws = await workspace(`
name: sweep-queue
params: { lr: 0.001 }
stages:
  source: { uses: $FIXTURES/source.ts, with: { n: 4 } }
  prep: { uses: $FIXTURES/count.ts, from: source, with: { log: prep.log } }
  train: { uses: $FIXTURES/score.ts, from: prep, with: { lr: "\${params.lr}", log: train.log, ms: 200 } }
`);
  for (const name of ['w1', 'w2']) workers.push(new WorkerProcess(redis.url, ws.storeDir, name, { cwd: ws.dir }));
  await Promise.all(workers.map((w) => w.ready()));
});

after(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  await redis?.stop();
});

test('--sweep with --queue: every variant runs on the workers, the shared stages once', { skip, timeout: 300_000 }, async () => {
  const run = await runCli(['run', 'exp.yaml', '--sweep', 'params.lr=1e-3,1e-2,1e-1', '--queue', redis.url, '--store', ws.storeDir, '--plain'], ws.dir, { env: FAST_STALL });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /stages run on workers through queue redis:\/\/127\.0\.0\.1:\d+/);
  assert.match(run.stdout, /sweep (sweep-\S+): succeeded \(3 succeeded\); 5 stage instances ran, 4 reused/);
  // prep does not depend on lr: its 4 items were processed once; train ran once per variant.
  assert.equal((await ws.lines('prep.log')).length, 4);
  assert.deepEqual((await ws.lines('train.log')).filter((l) => l.startsWith('start')).map((l) => / lr=(\S+)/.exec(l)![1]).sort(), ['0.001', '0.01', '0.1']);
  const workerLogs = workers.map((w) => w.log).join('\n');
  assert.equal(workerLogs.match(/running train /g)?.length, 3, workerLogs);
  assert.equal(workerLogs.match(/running prep /g)?.length, 1, workerLogs);
});
