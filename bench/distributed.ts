// Distributed DICOM conversion: a local run against 1 and 2 `pipeline worker`s on a real redis-server
// (this machine: 2 cores, so N = 2 shows the per-job overhead rather than a speed-up), the
// coordinator's overhead per job, and Redis commands (each at most one round-trip) per item.
// Run: node --import tsx bench/distributed.ts [files=2000] [jobs=200]
import { mkdtemp, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { FsStore } from '../src/store/fs-store.ts';
import { loadExperiment } from '../src/experiment/load.ts';
import { runLoaded } from '../src/engine/runner.ts';
import { QueueExecutor } from '../src/queue/queue-executor.ts';
import { parseRedisUrl } from '../src/queue/redis-url.ts';
import { RedisServer } from '../test/support/redis-server.ts';
import { WorkerProcess } from '../test/support/pipeline-worker.ts';

const files = Number(process.argv[2] ?? 2000);
const jobs = Number(process.argv[3] ?? 200);
const REPO = resolve(import.meta.dirname, '..');
const dir = await mkdtemp(join(tmpdir(), 'bench-dist-'));
const storeDir = join(dir, 'store');
process.env.PIPELINE_FSYNC = '0';

await writeFile(join(dir, 'convert.yaml'), `name: bench-convert
stages:
  synth: { uses: synthetic-dicom, with: { patients: ${Math.ceil(files / 2)}, seed: 1, size: 128 } }
  ingest: { uses: ingest-dicom, from: synth }
  convert: { uses: convert, from: ingest, with: { window: auto, bits: 8 } }
`);
await writeFile(join(dir, 'noop.yaml'), `name: bench-noop
stages:
  noop: { uses: ${REPO}/bench/stages/noop-stage.ts, foreach: { i: "range(${jobs})" }, with: { i: "\${each.i}" } }
`);

const store = await FsStore.open(storeDir, { durable: false });
const log = () => undefined;
async function timed(file: string, opts: Parameters<typeof runLoaded>[2]): Promise<{ ms: number; cpuMs: number; items: number }> {
  const experiment = await loadExperiment(join(dir, file));
  const cpu = process.cpuUsage();
  const t = performance.now();
  const r = await runLoaded(experiment, store, opts);
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  if (r.status !== 'succeeded') throw new Error(`${file}: ${r.status} ${JSON.stringify(r.instances.filter((i) => i.error))}`);
  return { ms, cpuMs: (used.user + used.system) / 1000, items: files };
}

console.log(`preparing ${files} synthetic DICOMs (ingest)...`);
await timed('convert.yaml', { concurrency: 2, only: ['ingest'] });

const redis = await new RedisServer().start();
const client = new Redis(redis.port, '127.0.0.1');
const commands = async () => {
  const info = await client.info('commandstats');
  return [...info.matchAll(/calls=(\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
};
const executor = await QueueExecutor.connect({ redis: parseRedisUrl(redis.url), store, root: dir, log });
const workers: WorkerProcess[] = [];
const rows: string[] = [];
try {
  const local = await timed('convert.yaml', { concurrency: 2, only: ['convert'], force: ['convert'] });
  rows.push(`| local (1 process, 2 cores) | ${(local.ms / 1000).toFixed(1)} s | ${(files / (local.ms / 1000)).toFixed(1)} img/s | 1.00x | | |`);
  console.log(rows.at(-1));
  for (const n of [1, 2]) {
    while (workers.length < n) workers.push(await new WorkerProcess(redis.url, storeDir, `w${workers.length + 1}`, { cwd: dir, env: { PIPELINE_WORKER_LOCK_MS: '30000', PIPELINE_WORKER_STALLED_MS: '15000' } }).ready());
    await client.config('RESETSTAT');
    const before = await commands();
    const q = await timed('convert.yaml', { concurrency: 2, only: ['convert'], force: ['convert'], executor });
    const perItem = ((await commands()) - before) / files;
    rows.push(`| queue, ${n} worker${n > 1 ? 's' : ''} | ${(q.ms / 1000).toFixed(1)} s | ${(files / (q.ms / 1000)).toFixed(1)} img/s | ${(local.ms / q.ms).toFixed(2)}x | ${(q.cpuMs / files).toFixed(2)} ms | ${perItem.toFixed(2)} |`);
    console.log(rows.at(-1));
  }
  // Per-job cost of the queue path: `jobs` instances that do nothing, locally and on 1 worker.
  while (workers.length > 1) await workers.pop()!.kill('SIGTERM');
  const localNoop = await timed('noop.yaml', { concurrency: 2, force: ['noop'] });
  await client.config('RESETSTAT');
  const before = await commands();
  const queueNoop = await timed('noop.yaml', { concurrency: 2, force: ['noop'], executor });
  const perJob = ((await commands()) - before) / jobs;
  rows.push(`| ${jobs} no-op jobs, local | ${(localNoop.ms / 1000).toFixed(2)} s | ${(localNoop.ms / jobs).toFixed(1)} ms/job | | | |`);
  rows.push(`| ${jobs} no-op jobs, queue (1 worker) | ${(queueNoop.ms / 1000).toFixed(2)} s | ${(queueNoop.ms / jobs).toFixed(1)} ms/job | | coordinator CPU ${(queueNoop.cpuMs / jobs).toFixed(1)} ms/job | ${perJob.toFixed(1)} per job |`);
  console.log(rows.slice(-2).join('\n'));
} finally {
  await executor.close();
  await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  client.disconnect();
  await redis.stop();
}
console.log(`\n${files} DICOMs 128x128, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
console.log('| setup | convert time | throughput | speed-up vs local | coordinator CPU per item | Redis commands per item |\n|---|---|---|---|---|---|');
console.log(rows.join('\n'));
