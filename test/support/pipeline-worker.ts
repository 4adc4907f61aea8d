import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './workspace.ts';
import { ensureBuiltCli } from './built-cli.ts';

/** Short stall detection (a killed worker's job is taken over within seconds) and grace (SIGTERM hands jobs back at once) in tests. */
export const FAST_STALL = { PIPELINE_WORKER_LOCK_MS: '4000', PIPELINE_WORKER_STALLED_MS: '1000', PIPELINE_QUEUE_BACKOFF_MS: '200', PIPELINE_WORKER_REFUSE_DELAY_MS: '500', PIPELINE_WORKER_GRACE_MS: '300' };

/** A `pipeline worker` child process; its stderr (log lines) is kept. */
export class WorkerProcess {
  readonly child: ChildProcess;
  log = '';
  private readonly exited: Promise<number | null>;

  constructor(queue: string, store: string, readonly name: string, opts: { cwd: string; args?: string[]; env?: Record<string, string> }) {
    ensureBuiltCli();
    this.child = spawn(process.execPath, [join(REPO, 'bin/pipeline.js'), 'worker', '--queue', queue, '--store', store, '--name', name, ...(opts.args ?? [])], {
      cwd: opts.cwd,
      env: { ...process.env, CI: '1', PIPELINE_FSYNC: '0', ...FAST_STALL, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d) => (this.log += d));
    this.child.stderr!.on('data', (d) => (this.log += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Resolves once the worker listens (its start line), or rejects if it exits first. */
  async ready(timeoutMs = 240_000): Promise<this> {
    const deadline = Date.now() + timeoutMs;
    while (!/ takes .* jobs from /.test(this.log)) {
      if (this.child.exitCode !== null) throw new Error(`worker ${this.name} exited ${this.child.exitCode}: ${this.log}`);
      if (Date.now() > deadline) throw new Error(`worker ${this.name} did not start: ${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this;
  }

  async waitFor(re: RegExp, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.log)) {
      if (Date.now() > deadline) throw new Error(`worker ${this.name}: no ${re} in ${this.log}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exited;
  }
}
