import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FsStore } from '../../src/store/fs-store.ts';
import { Collections } from '../../src/store/store.ts';
import type { LatestEntry } from '../../src/engine/cache-key.ts';
import { listRuns } from '../../src/engine/run-record.ts';
import { redisMissing, RedisServer } from '../support/redis-server.ts';
import { WorkerProcess, FAST_STALL } from '../support/pipeline-worker.ts';
import { runCli, workspace, FIXTURES } from '../support/workspace.ts';

// Real redis-server and real `pipeline worker` processes sharing one folder store with the coordinator.
const skip = redisMissing;
let redis: RedisServer;
let ws: Awaited<ReturnType<typeof workspace>>;
let workers: WorkerProcess[] = [];

const experiment = (name: string, n: number, delay: number) => `
name: ${name}
stages:
  source: { uses: $FIXTURES/source.ts, with: { n: ${n}, prefix: ${name}- } }
  slow: { uses: $FIXTURES/count.ts, from: source, with: { log: ${name}.log, delay_ms: ${delay} } }
`;

async function file(name: string, yaml: string): Promise<string> {
  const path = join(ws.dir, `${name}.yaml`);
  await writeFile(path, yaml.replace(/\$FIXTURES/g, FIXTURES));
  return path;
}

function coordinator(path: string, opts: { poll?: (child: ChildProcess) => Promise<void>; env?: Record<string, string> } = {}) {
  return runCli(['run', path, '--queue', redis.url, '--store', ws.storeDir, '--plain'], ws.dir, { poll: opts.poll, env: { ...FAST_STALL, PIPELINE_CHUNK_ITEMS: '15', ...opts.env } });
}

function startWorker(name: string): Promise<WorkerProcess> {
  const w = new WorkerProcess(redis.url, ws.storeDir, name, { cwd: ws.dir });
  workers.push(w);
  return w.ready();
}

async function latestArtifact(storeDir: string, experimentName: string, instance: string): Promise<string> {
  const store = await FsStore.open(storeDir, { durable: false });
  const entry = await store.getDoc<LatestEntry>(Collections.latest, `${experimentName}/${instance}`);
  assert.ok(entry, `no output of ${instance} in ${storeDir}`);
  return entry.artifact;
}

/** The same experiment run locally (no queue) in a store of its own. */
async function localDigest(yaml: string, name: string, instance: string): Promise<string> {
  const local = await workspace(yaml);
  const r = await local.run();
  assert.equal(r.status, 'succeeded');
  return latestArtifact(local.storeDir, name, instance);
}

before(async () => {
  if (skip) return;
  redis = await new RedisServer().start();
  ws = await workspace('stages: {}');
  await Promise.all([startWorker('w1'), startWorker('w2')]);
});

after(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  await redis?.stop();
});

test('a worker SIGKILLed during a chunk: another takes the job over after stall detection; the result equals a local run', { skip, timeout: 400_000 }, async () => {
  const yaml = experiment('killed', 60, 60);
  const path = await file('killed', yaml);
  let killed: string | undefined;
  let checking = false;
  const run = await coordinator(path, {
    poll: async () => {
      // Polls overlap (every 25 ms, each awaits a file read): one at a time, one kill only.
      if (killed || checking) return;
      checking = true;
      // Kill a worker while it is inside a chunk of `slow` and some items are done.
      if ((await ws.lines('killed.log')).length >= 5) {
        const w = workers.slice(0, 2).find((x) => x.log.split('\n').filter((l) => / (running|finished) slow chunk/.test(l)).at(-1)?.includes('running'));
        if (w) {
          killed = w.name;
          await w.kill('SIGKILL');
        }
      }
      checking = false;
    },
  });
  assert.equal(run.code, 0, run.stderr.slice(-3000));
  assert.ok(killed, 'a worker was killed mid-chunk');
  const survivor = workers.find((w) => w.name !== killed && w.child.exitCode === null)!;
  assert.match(run.stdout, /slow\s+ran\s+\S+\s+60\/60/);
  const processed = await ws.lines('killed.log');
  assert.deepEqual(new Set(processed).size, 60, 'every item processed');
  assert.ok(processed.length - 60 <= 4, `${processed.length - 60} items were processed twice (at most the in-flight ones may be)`);
  assert.match(survivor.log, /running slow chunk/);
  assert.equal(await latestArtifact(ws.storeDir, 'killed', 'slow'), await localDigest(yaml, 'killed', 'slow'), 'same artifact digest as a local run');
  // Bring the pool back to two workers for the next tests.
  workers = workers.filter((w) => w.name !== killed);
  await startWorker('w3');
});

test('a stage that throws is retried with backoff; a stage that keeps throwing fails the run with its own error', { skip, timeout: 300_000 }, async () => {
  const flaky = (name: string, failFirst: number) => `
name: ${name}
stages:
  source: { uses: $FIXTURES/source.ts, with: { n: 3, prefix: ${name}- } }
  boom: { uses: $FIXTURES/flaky.ts, from: source, with: { attempts_log: ${name}.attempts, fail_first: ${failFirst} } }
`;
  const recovered = await coordinator(await file('flaky1', flaky('flaky1', 1)));
  assert.equal(recovered.code, 0, recovered.stderr.slice(-2000));
  assert.equal((await ws.lines('flaky1.attempts')).length, 2, 'failed once, succeeded on the retry');

  const broken = await coordinator(await file('flaky2', flaky('flaky2', 99)));
  assert.equal(broken.code, 1);
  assert.equal((await ws.lines('flaky2.attempts')).length, 3, 'three attempts (PIPELINE_QUEUE_ATTEMPTS default)');
  const local = await workspace(flaky('flaky2', 99));
  const alone = await local.cli(['run', 'exp.yaml', '--plain']);
  const localError = alone.stdout.match(/errors:\n\s+(.*)/)![1];
  assert.match(localError, /^stage boom \(.*flaky\.ts\): the disk is on fire$/);
  assert.ok(broken.stdout.includes(`${localError} after 3 attempts`), broken.stdout);
});

test('the coordinator killed and restarted: the rerun picks up finished and running work, nothing runs twice', { skip, timeout: 300_000 }, async () => {
  const path = await file('restart', experiment('restart', 60, 60));
  const first = await coordinator(path, {
    poll: async (child) => {
      if ((await ws.lines('restart.log')).length >= 10) child.kill('SIGKILL');
    },
  });
  assert.equal(first.signal, 'SIGKILL');
  const second = await coordinator(path);
  assert.equal(second.code, 0, second.stderr.slice(-3000));
  assert.match(second.stdout, /source\s+cached/);
  const processed = await ws.lines('restart.log');
  assert.equal(processed.length, 60, `each item processed once (got ${processed.length})`);
  assert.equal(new Set(processed).size, 60);
});

test('two coordinators running the same experiment at once share the jobs: no duplicate work, the same artifacts', { skip, timeout: 300_000 }, async () => {
  const path = await file('twice', experiment('twice', 45, 40));
  const [a, b] = await Promise.all([coordinator(path), coordinator(path)]);
  assert.equal(a.code, 0, a.stderr.slice(-2000));
  assert.equal(b.code, 0, b.stderr.slice(-2000));
  const processed = await ws.lines('twice.log');
  assert.equal(processed.length, 45, `each item processed once (got ${processed.length})`);
  const runs = (await listRuns(await FsStore.open(ws.storeDir))).filter((r) => r.experiment === 'twice');
  assert.equal(runs.length, 2);
  const digests = runs.map((r) => r.instances.find((i) => i.id === 'slow')!.artifact);
  assert.ok(digests[0] && digests[0] === digests[1], 'both runs name the same committed artifact');
});

test('Redis restarted mid-run (no persistence): the coordinator enqueues the lost jobs again and the run completes correctly', { skip, timeout: 400_000 }, async () => {
  const yaml = experiment('bounce', 60, 60);
  const path = await file('bounce', yaml);
  let restarted = false;
  let checking = false;
  const run = await coordinator(path, {
    poll: async () => {
      if (restarted || checking) return;
      checking = true;
      if ((await ws.lines('bounce.log')).length >= 10) {
        restarted = true;
        await redis.restart(500);
      }
      checking = false;
    },
  });
  assert.ok(restarted);
  assert.equal(run.code, 0, run.stdout + run.stderr.slice(-3000));
  assert.match(run.stderr, /no longer in Redis .*enqueued again/);
  assert.equal(new Set(await ws.lines('bounce.log')).size, 60);
  assert.equal(await latestArtifact(ws.storeDir, 'bounce', 'slow'), await localDigest(yaml, 'bounce', 'slow'), 'same artifact digest as a local run');
});

test('SIGTERM: a worker past its grace period hands its job back and exits 0; another worker finishes it', { skip, timeout: 300_000 }, async () => {
  const yaml = experiment('graceful', 30, 80);
  const path = await file('graceful', yaml);
  let stopped: WorkerProcess | undefined;
  let exitCode: Promise<number | null> | undefined;
  let checking = false;
  const run = await coordinator(path, {
    env: { PIPELINE_CHUNK_ITEMS: '1000' },
    poll: async () => {
      // Polls overlap (every 25 ms, each awaits a file read): one at a time, one SIGTERM only.
      if (stopped || checking) return;
      checking = true;
      if ((await ws.lines('graceful.log')).length >= 5) {
        stopped = workers.find((w) => /running slow \(/.test(w.log.split('\n').filter((l) => / (running|finished) slow /.test(l)).at(-1) ?? ''));
        if (stopped) exitCode = stopped.kill('SIGTERM');
      }
      checking = false;
    },
  });
  assert.equal(run.code, 0, run.stderr.slice(-3000));
  assert.ok(stopped, 'a worker was stopped while running slow');
  assert.equal(await exitCode, 0);
  assert.match(stopped.log, /SIGTERM: finishing running jobs[\s\S]*handing back slow: the worker is stopping[\s\S]*stopped/);
  assert.equal(new Set(await ws.lines('graceful.log')).size, 30);
  assert.equal(await latestArtifact(ws.storeDir, 'graceful', 'slow'), await localDigest(yaml, 'graceful', 'slow'));
});
