import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadExperiment } from '../../src/experiment/load.ts';
import { QueueExecutor } from '../../src/queue/queue-executor.ts';
import { parseRedisUrl } from '../../src/queue/redis-url.ts';
import { PREFIX, queueName, WORKERS_KEY } from '../../src/queue/protocol.ts';
import type { StageTask } from '../../src/engine/task.ts';
import { tempStore } from '../../src/testing/harness.ts';
import { redisMissing, RedisServer } from '../support/redis-server.ts';
import { workspace } from '../support/workspace.ts';

test('resources: / queue: in an experiment name the resource class of a stage; both at once, or an amount other than 1, is an error', async () => {
  const ws = await workspace(`
stages:
  a: { uses: $FIXTURES/source.ts, with: { n: 1 }, resources: { gpu: 1 } }
  b: { uses: $FIXTURES/source.ts, with: { n: 1 }, queue: highmem }
  c: { uses: $FIXTURES/source.ts, with: { n: 1 } }
`);
  const exp = await loadExperiment(ws.file);
  assert.deepEqual(exp.instances.map((i) => i.resource), ['gpu', 'highmem', undefined]);
  const message = (e: any) => e.diagnostics.map((d: any) => `${d.location.line}: ${d.message}`).join('\n');
  await ws.write('stages:\n  a: { uses: $FIXTURES/source.ts, with: { n: 1 }, resources: { gpu: 1 }, queue: gpu }\n');
  await assert.rejects(loadExperiment(ws.file), (e) => /^2: stage a: give resources or queue, not both$/.test(message(e)));
  await ws.write('stages:\n  a: { uses: $FIXTURES/source.ts, with: { n: 1 }, resources: { gpu: 2 } }\n');
  await assert.rejects(loadExperiment(ws.file), (e) => /^2: .*stages\.a\.resources\.gpu: .*expected 1$/.test(message(e)));
});

test('routing: a declared class goes to its queue; a preferred class (train: gpu) only when a connected worker offers it', { skip: redisMissing, timeout: 60_000 }, async () => {
  const server = await new RedisServer().start();
  const store = await tempStore();
  const executor = await QueueExecutor.connect({ redis: parseRedisUrl(server.url), store, root: '/', log: () => undefined });
  const redis = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: null });
  const queues = new Map<string, Queue>();
  const queueOf = async (id: string) => {
    for (const r of ['cpu', 'gpu', 'highmem']) {
      const q = queues.get(r) ?? queues.set(r, new Queue(queueName(r), { connection: redis, prefix: PREFIX })).get(r)!;
      if (await q.getJob(id)) return r;
    }
    return undefined;
  };
  const task = (key: string, extra: Partial<StageTask>): StageTask => ({ key: key.repeat(64), runId: 'r', instance: { id: 'x', stage: 'x', uses: 'train', vars: {} }, uses: 'train', stageVersion: 1, params: {}, inputs: [], external: {}, baseDir: '/', forced: false, ...extra });
  const enqueue = async (t: StageTask) => {
    const controller = new AbortController();
    const running = executor.run(t, { emit: () => undefined, signal: controller.signal, admit: () => true, started: () => undefined }).catch(() => undefined);
    for (let i = 0; i < 200 && !(await queueOf(t.key)); i++) await new Promise((r) => setTimeout(r, 25));
    const where = await queueOf(t.key);
    controller.abort(new Error('test done'));
    await running;
    return where;
  };
  try {
    assert.equal(await enqueue(task('a', { resource: 'highmem' })), 'highmem');
    assert.equal(await enqueue(task('b', { prefers: 'gpu' })), 'cpu', 'no gpu worker connected: cpu');
    await redis.hset(WORKERS_KEY, 'gpu-box', JSON.stringify({ name: 'gpu-box', resources: ['gpu'], version: '0', seen: Date.now() }));
    await new Promise((r) => setTimeout(r, 2100)); // the executor caches the worker list for 2 s
    assert.equal(await enqueue(task('c', { prefers: 'gpu' })), 'gpu');
    await redis.hset(WORKERS_KEY, 'gpu-box', JSON.stringify({ name: 'gpu-box', resources: ['gpu'], version: '0', seen: Date.now() - 60_000 }));
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal(await enqueue(task('d', { prefers: 'gpu' })), 'cpu', 'a worker not seen for a minute is gone');
  } finally {
    await Promise.all([...queues.values()].map((q) => q.close()));
    redis.disconnect();
    await executor.close();
    await server.stop();
  }
});
