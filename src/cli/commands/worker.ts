import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { list, parse, positiveInt, UsageError } from '../args.ts';
import { openStore } from '../../store/open.ts';
import { stageRegistry } from '../../experiment/resolve-stage.ts';
import { RESOURCE_RE } from '../../experiment/schema.ts';

const usage = 'pipeline worker --queue redis://HOST:PORT[/DB] --store DIR|mongodb://... [--concurrency N] [--resources cpu,gpu] [--name NAME] [--root DIR]';

/** Offers `gpu` when TensorFlow.js for CUDA is installed in this checkout. */
function hasGpuBackend(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node-gpu');
    return true;
  } catch {
    return false;
  }
}

function envMs(name: string): number | undefined {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

export const workerCommand: Command = {
  name: 'worker',
  help: `usage: ${usage}

A long-running process that runs the stage tasks that \`pipeline run FILE --queue URL\` enqueues, with
the same code as a local run, reading and writing the store every worker and the coordinator share
(a mongodb:// store, or one folder on a shared file system). Stage code comes from this checkout:
a job names a stage type, its version and the hash of a user module; a worker whose code differs
refuses the job and says why (another worker takes it). Stop with SIGTERM or Ctrl-C: running jobs
may finish for 25 s, then they go back to the queue.

options:
  --queue URL         redis://[user:pass@]host:port[/db] or rediss:// (TLS); default $PIPELINE_QUEUE.
                      The password may also come from $REDIS_PASSWORD; it is never printed
  --store DIR|URL     the shared store (required; or $PIPELINE_STORE)
  --concurrency N     jobs at once (default 1); each gets its share of the cores for its items
  --resources LIST    resource classes offered, e.g. cpu,gpu or cpu,highmem (default cpu, plus gpu when
                      @tensorflow/tfjs-node-gpu is installed); stages ask for one with resources: or queue:
  --name NAME         shown in the coordinator's progress and in \`pipeline runs show\` (default host-pid)
  --root DIR          this checkout: experiment folders and stage modules that the coordinator sent
                      relative to its own root resolve here (default: the current folder)
tuning (environment): PIPELINE_WORKER_LOCK_MS (30000), PIPELINE_WORKER_STALLED_MS (15000): a worker
  that dies holds its job this long before another takes it over; PIPELINE_WORKER_GRACE_MS (25000).`,
  async run(argv) {
    const { values, help } = parse(argv, {
      queue: { type: 'string' },
      store: { type: 'string' },
      concurrency: { type: 'string', short: 'j' },
      resources: { type: 'string', multiple: true },
      name: { type: 'string' },
      root: { type: 'string' },
    }, { min: 0, max: 0, usage });
    if (help) return console.log(this.help), ExitCode.ok;
    const url = values.queue ?? process.env.PIPELINE_QUEUE;
    if (!url) throw new UsageError(`--queue (or $PIPELINE_QUEUE) is required\nusage: ${usage}`);
    const storeLocation = values.store ?? process.env.PIPELINE_STORE;
    if (!storeLocation) throw new UsageError(`--store (or $PIPELINE_STORE) is required: the store the coordinator and every worker share\nusage: ${usage}`);
    const resources = list(values.resources) ?? ['cpu', ...(hasGpuBackend() ? ['gpu'] : [])];
    const bad = resources.find((r) => !RESOURCE_RE.test(r));
    if (bad) throw new UsageError(`--resources: ${JSON.stringify(bad)} is not a resource class (lower-case letters, digits and -)`);
    const concurrency = positiveInt(values.concurrency, '--concurrency') ?? 1;
    const [{ StageWorker, defaultWorkerName }, { parseRedisUrl }] = await Promise.all([import('../../queue/worker.ts'), import('../../queue/redis-url.ts')]);
    const redis = parseRedisUrl(url);
    const name = values.name ?? defaultWorkerName();
    const log = (level: string, message: string) => process.stderr.write(`${new Date().toISOString().slice(0, 19).replace('T', ' ')} ${name} ${level === 'info' ? '' : level + ': '}${message}\n`);
    const store = await openStore(storeLocation);
    const worker = new StageWorker({
      redis,
      store,
      registry: stageRegistry,
      root: resolve(values.root ?? '.'),
      name,
      resources,
      concurrency,
      log,
      lockMs: envMs('PIPELINE_WORKER_LOCK_MS'),
      stalledMs: envMs('PIPELINE_WORKER_STALLED_MS'),
      graceMs: envMs('PIPELINE_WORKER_GRACE_MS'),
      refuseDelayMs: envMs('PIPELINE_WORKER_REFUSE_DELAY_MS'),
    });
    try {
      await worker.start();
    } catch (err) {
      await worker.stop().catch(() => undefined);
      await store.close();
      throw err;
    }
    await new Promise<void>((done) => {
      let signals = 0;
      const onSignal = (sig: string) => {
        if (++signals > 1) process.exit(ExitCode.interrupted);
        log('info', `${sig}: finishing running jobs (again to quit at once)`);
        void worker.stop().finally(done);
      };
      process.on('SIGTERM', () => onSignal('SIGTERM'));
      process.on('SIGINT', () => onSignal('SIGINT'));
    });
    await store.close();
    log('info', 'stopped');
    return ExitCode.ok;
  },
};
