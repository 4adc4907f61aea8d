import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { ensureBuiltCli } from './built-cli.ts';
import { FsStore } from '../../src/store/fs-store.ts';
import { loadExperiment } from '../../src/experiment/load.ts';
import { planLoaded, runLoaded } from '../../src/engine/runner.ts';
import type { PipelineEvent } from '../../src/engine/events.ts';

export const FIXTURES = resolve(import.meta.dirname, '../engine/fixtures');
export const REPO = resolve(import.meta.dirname, '../..');
export const fixture = (name: string) => join(FIXTURES, `${name}.ts`);

/** A temp folder with an experiment file and a store, for engine and CLI tests. */
export async function workspace(yaml: string, files: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-ws-'));
  const file = join(dir, 'exp.yaml');
  await writeFile(file, yaml.replace(/\$FIXTURES/g, FIXTURES));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  const storeDir = join(dir, '.pipeline');
  return {
    dir,
    file,
    storeDir,
    async write(yaml2: string) {
      await writeFile(file, yaml2.replace(/\$FIXTURES/g, FIXTURES));
    },
    async lines(name: string): Promise<string[]> {
      try {
        return (await readFile(join(dir, name), 'utf8')).split('\n').filter(Boolean);
      } catch {
        return [];
      }
    },
    async run(opts: { only?: string[]; from?: string[]; force?: string[]; concurrency?: number; keepGoing?: boolean } = {}) {
      const store = await FsStore.open(storeDir, { durable: false });
      const events: PipelineEvent[] = [];
      const result = await runLoaded(await loadExperiment(file), store, { concurrency: 2, ...opts, sinks: [{ handle: (e) => void events.push(e) }] });
      return { ...result, events, status: result.status, byId: Object.fromEntries(result.instances.map((i) => [i.id, i])) };
    },
    async plan(opts: { only?: string[]; from?: string[]; force?: string[] } = {}) {
      const store = await FsStore.open(storeDir, { durable: false });
      const plan = await planLoaded(await loadExperiment(file), store, opts);
      return Object.fromEntries(plan.map((p) => [p.id, { action: p.status === 'cached' ? 'cached' : 'run', reasons: p.reasons }]));
    },
    cli(args: string[], opts: Parameters<typeof runCli>[2] = {}) {
      return runCli(args, dir, opts);
    },
  };
}

export function runCli(args: string[], cwd: string, opts: { onStderr?: (chunk: string, child: ReturnType<typeof spawn>) => void; poll?: (child: ReturnType<typeof spawn>) => Promise<void>; env?: Record<string, string> } = {}): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  ensureBuiltCli();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(REPO, 'bin/pipeline.js'), ...args], { cwd, env: { ...process.env, CI: '1', PIPELINE_FSYNC: '0', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      opts.onStderr?.(String(d), child);
    });
    // `poll` runs every 25 ms while the process lives (e.g. to kill it once enough work is done).
    const timer = opts.poll ? setInterval(() => void opts.poll!(child), 25) : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearInterval(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}
