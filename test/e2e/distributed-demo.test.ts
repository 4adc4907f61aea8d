import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { runCli, REPO } from '../support/workspace.ts';
import { dumpRedis, redisMissing, RedisServer } from '../support/redis-server.ts';
import { FAST_STALL, WorkerProcess } from '../support/pipeline-worker.ts';
import { demoPhi } from '../support/demo-phi.ts';
import { FsStore } from '../../src/store/fs-store.ts';
import { Collections } from '../../src/store/store.ts';
import type { LatestEntry } from '../../src/engine/cache-key.ts';

const DEMO = join(REPO, 'experiments/demo.yaml');
// Tiny: 12 patients (about 24 images), 1 epoch; chunks of 6 items so that ingest, convert, preprocess
// and tta each split among the workers. Training threads are pinned to 1 on both sides: ONNX Runtime's
// float sums depend on the thread count (a local run gives each of 3 folds 1 of the 2 cores, a worker
// running one job all of them), and byte-identical results need equal threads, not equal machines.
const env = { DEMO_PATIENTS: '12', DEMO_EPOCHS: '1', PIPELINE_CHUNK_ITEMS: '6', PIPELINE_WASM_THREADS: '1' };
// A killed worker's job is taken over after 15 s; a shorter lock risks false stalls on a busy machine.
const stall = { ...FAST_STALL, PIPELINE_WORKER_LOCK_MS: '15000', PIPELINE_WORKER_STALLED_MS: '2000' };

async function evaluateDigest(storeDir: string): Promise<string> {
  const store = await FsStore.open(storeDir, { durable: false });
  const entry = await store.getDoc<LatestEntry>(Collections.latest, 'demo/evaluate');
  assert.ok(entry, `no evaluate output in ${storeDir}`);
  return entry.artifact;
}

test('the demo on two pipeline workers through Redis, one SIGKILLed during a chunk, gives the evaluate artifact of a local run', { skip: redisMissing, timeout: 900_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-dist-demo-'));
  const redis = await new RedisServer().start();
  const shared = join(dir, 'shared-store');
  // Coordinator and workers run from the checkout root: the experiment folder travels as `experiments`.
  const workers = [new WorkerProcess(redis.url, shared, 'w1', { cwd: REPO, env: { ...env, ...stall } }), new WorkerProcess(redis.url, shared, 'w2', { cwd: REPO, env: { ...env, ...stall } })];
  try {
    const local = runCli(['run', DEMO, '--no-lock', '--store', join(dir, 'local-store'), '--plain'], dir, { env });
    await Promise.all(workers.map((w) => w.ready()));
    let killed: WorkerProcess | undefined;
    let killedIn = '';
    const run = await runCli(['run', DEMO, '--no-lock', '--queue', redis.url, '--store', shared, '--plain'], REPO, {
      env,
      poll: async () => {
        if (killed) return;
        for (const w of workers) {
          const last = w.log.split('\n').filter((l) => / (running|finished) \S+ chunk /.test(l)).at(-1);
          if (last?.includes(' running ')) {
            killed = w;
            killedIn = last.replace(/.* running (\S+ chunk \S+).*/, '$1');
            await w.kill('SIGKILL');
            return;
          }
        }
      },
    });
    assert.equal(run.code, 0, run.stdout + run.stderr.slice(-4000));
    assert.ok(killed, 'a worker was killed during a chunk');
    const survivor = workers.find((w) => w !== killed)!;
    assert.match(survivor.log, new RegExp(`running ${killedIn.replace(/[/]/g, '\\/')} `), `${survivor.name} took over ${killedIn}`);
    assert.match(run.stdout, /succeeded \(13 ran\)/);
    assert.match(run.stdout, /stage\s+status\s+time\s+items\s+worker/);
    assert.match(run.stdout, /convert\s+ran\s+.*w[12]/);

    const alone = await local;
    assert.equal(alone.code, 0, alone.stderr.slice(-3000));
    assert.equal(await evaluateDigest(shared), await evaluateDigest(join(dir, 'local-store')), 'evaluate artifact digest equals the local run\'s');

    const show = await runCli(['runs', 'show', 'last', '--store', shared], REPO);
    assert.match(show.stdout, /train\[fold=0\]\s+ran\s+.*\s(w1|w2)\s*$/m);

    // Nothing of the patients went through Redis: jobs carry ids, params and digests.
    const phi = await demoPhi(await FsStore.open(shared, { durable: false }));
    assert.ok(phi.length >= 12);
    const client = new Redis(redis.port, '127.0.0.1');
    const dump = (await dumpRedis(client)).toLowerCase();
    client.disconnect();
    assert.ok(dump.includes('"uses\\":\\"convert\\"') || dump.includes('convert'), 'the dump holds the jobs');
    for (const [i, value] of phi.entries()) assert.ok(!dump.includes(value.toLowerCase()), `PHI value #${i} is in Redis`);
  } finally {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await redis.stop();
  }
});
