import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { dumpRedis, redisMissing, RedisServer } from '../support/redis-server.ts';
import { WorkerProcess } from '../support/pipeline-worker.ts';
import { REPO, runCli, workspace, FIXTURES } from '../support/workspace.ts';
import { parseRedisUrl } from '../../src/queue/redis-url.ts';
import { PACKAGE_VERSION, PREFIX, queueName } from '../../src/queue/protocol.ts';

// One redis-server that only speaks TLS and requires a password: rediss://:SECRET@127.0.0.1:port.
const SECRET = 'S3cret-Pa55word-for-tests';
const noOpenssl = spawnSync('openssl', ['version']).error ? 'openssl is not installed (needed to make a test certificate)' : undefined;
const skip = redisMissing ?? noOpenssl;
let redis: RedisServer;
let certDir: string;
let env: Record<string, string>;
const workers: WorkerProcess[] = [];

const stageModule = (note: string) => `// ${note}
import { z } from '${join(REPO, 'node_modules/zod/index.js')}';
import { defineStage } from '${join(REPO, 'src/engine/stage.ts')}';
export default defineStage({
  name: 'm', version: 1, description: 'copies its input', params: z.object({}).strict(),
  async run(ctx, inputs) { return { kind: 'dataset', rows: await ctx.readRows(inputs[0].artifact) }; },
});
`;

before(async () => {
  if (skip) return;
  certDir = await mkdtemp(join(tmpdir(), 'pipeline-tls-'));
  const cert = join(certDir, 'cert.pem');
  const key = join(certDir, 'key.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  assert.equal(made.status, 0, String(made.stderr));
  redis = await new RedisServer({ password: SECRET, tls: { cert, key } }).start();
  env = { NODE_EXTRA_CA_CERTS: cert };
});

after(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  await redis?.stop();
});

function worker(url: string, store: string, name: string, cwd: string, args: string[] = []): WorkerProcess {
  const w = new WorkerProcess(url, store, name, { cwd, args, env });
  workers.push(w);
  return w;
}

test('rediss:// with a password: work runs on a worker; the password is printed nowhere; jobs carry no rows', { skip, timeout: 300_000 }, async () => {
  assert.match(redis.url, /^rediss:\/\/:.+@127\.0\.0\.1:\d+$/);
  const ws = await workspace(`
name: sec
stages:
  source: { uses: $FIXTURES/source.ts, with: { n: 12, prefix: row- } }
  slow: { uses: $FIXTURES/count.ts, from: source, with: { log: sec.log } }
`);
  const w = await worker(redis.url, ws.storeDir, 'tls-worker', ws.dir).ready();
  const run = await runCli(['run', 'exp.yaml', '--queue', redis.url, '--store', ws.storeDir, '--plain'], ws.dir, { env });
  assert.equal(run.code, 0, run.stderr.slice(-2000));
  assert.match(run.stdout, /slow\s+ran\s+.*tls-worker/);
  const show = await runCli(['runs', 'show', 'last', '--store', ws.storeDir], ws.dir);
  assert.match(show.stdout, /command\s+pipeline run exp\.yaml --queue rediss:\/\/:\*\*\*@127\.0\.0\.1/);
  for (const text of [run.stdout, run.stderr, show.stdout, w.log]) assert.ok(!text.includes(SECRET), 'the password was printed');
  assert.match(run.stderr, /queue rediss:\/\/:\*\*\*@127\.0\.0\.1/);

  // Every value in Redis: ids, params and digests only; none of the rows' item ids.
  const client = new Redis({ ...parseRedisUrl(redis.url).options, tls: { ca: await (await import('node:fs/promises')).readFile(env.NODE_EXTRA_CA_CERTS) } });
  try {
    const dump = await dumpRedis(client);
    assert.ok(dump.includes('fixtures/count.ts') && dump.includes('"data"'), 'the job data is there');
    for (let i = 0; i < 12; i++) assert.ok(!dump.includes(`"row-${i}"`), `item row-${i} appears in Redis`);
    assert.ok(!/export default|defineStage/.test(dump), 'no stage code in Redis');
  } finally {
    client.disconnect();
  }
});

test('a wrong password fails clearly, without printing either password', { skip, timeout: 120_000 }, async () => {
  const ws = await workspace('stages: {}');
  const wrong = redis.url.replace(encodeURIComponent(SECRET), 'not-the-Password-123');
  const r = await runCli(['worker', '--queue', wrong, '--store', ws.storeDir], ws.dir, { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot reach Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+.*(WRONGPASS|NOAUTH|invalid)/i);
  assert.ok(!r.stderr.includes('not-the-Password-123') && !r.stderr.includes(SECRET));
});

test('a worker whose stage module differs refuses the job and says why; with no other worker the run fails clearly', { skip, timeout: 300_000 }, async () => {
  const ws = await workspace(`
name: mod
stages:
  source: { uses: $FIXTURES/source.ts, with: { n: 3, prefix: mod- } }
  m: { uses: ./stages/m.ts, from: source }
`);
  const other = await mkdtemp(join(tmpdir(), 'pipeline-other-checkout-'));
  for (const dir of [ws.dir, other]) {
    await mkdir(join(dir, 'stages'));
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }');
  }
  await writeFile(join(ws.dir, 'stages/m.ts'), stageModule('the coordinator\'s version'));
  await writeFile(join(other, 'stages/m.ts'), stageModule('an older version'));
  // Database 1: this worker is the only one there.
  const url = `${redis.url}/1`;
  const stale = await worker(url, ws.storeDir, 'stale', other, ['--root', other]).ready();
  const run = await runCli(['run', 'exp.yaml', '--queue', url, '--store', ws.storeDir, '--plain'], ws.dir, { env });
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout, /stage m \(\.\/stages\/m\.ts\): no connected worker accepts m: stale: stage module \.\/stages\/m\.ts here \(.*\) has sha256 [0-9a-f]{12}, the run was planned with [0-9a-f]{12}/);
  assert.match(stale.log, /refused m \(job [0-9a-f]{64}\): stage module \.\/stages\/m\.ts here/);
  assert.match(run.stdout, /source\s+ran\s+.*stale/, 'built-in-free source module matched (same absolute path) and ran');
});

test('a worker refuses a job planned with another pipeline version, and the job stays queued for another worker', { skip, timeout: 300_000 }, async () => {
  const ws = await workspace('stages: {}');
  const url = `${redis.url}/2`;
  const w = await worker(url, ws.storeDir, 'current', ws.dir).ready();
  const target = parseRedisUrl(url);
  const connection = new Redis({ ...target.options, tls: { ca: await (await import('node:fs/promises')).readFile(env.NODE_EXTRA_CA_CERTS) }, maxRetriesPerRequest: null });
  const queue = new Queue(queueName('cpu'), { connection, prefix: PREFIX });
  try {
    const task = { key: 'a'.repeat(64), runId: 'r', instance: { id: 'source', stage: 'source', uses: join(FIXTURES, 'source.ts'), vars: {} }, uses: join(FIXTURES, 'source.ts'), stageVersion: 1, params: { n: 1, prefix: 'x' }, inputs: [], external: {}, baseDir: '.', forced: false };
    const job = await queue.add('stage', { protocol: 1, package: '0.0.0-other', task }, { jobId: 'a'.repeat(64) });
    await w.waitFor(/refused source \(job a{64}\): the run was planned with pipeline 0\.0\.0-other, this worker runs /);
    assert.ok(w.log.includes(`this worker runs ${PACKAGE_VERSION}`));
    const state = await job.getState();
    assert.ok(['delayed', 'waiting', 'active'].includes(state), `the job is ${state}`);
    assert.equal(await job.getState() === 'failed', false);
    await job.remove().catch(() => undefined);
  } finally {
    await queue.close();
    connection.disconnect();
  }
});
