import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { list, parse, positiveInt, STORE_HELP, storeOption } from '../args.ts';
import { loadExperiment } from '../../experiment/load.ts';
import { openStore } from '../../store/open.ts';
import { runLoaded, type RunResult } from '../../engine/runner.ts';
import { loadVariants, runSweep } from '../../engine/sweep-runner.ts';
import type { RunStatus } from '../../engine/events.ts';
import { PlainReporter } from '../reporters/plain.ts';
import { TtyReporter } from '../reporters/tty.ts';
import { summaryTable } from '../reporters/summary.ts';
import { headlineMetrics } from '../reporters/headline-metrics.ts';
import { QUEUE_HELP, queueExecutor, queueOption } from '../queue-option.ts';
import { OVERRIDE_HELP, overrideOptions, parseOverrides, OVERRIDE_USAGE } from '../override-options.ts';
import { lockRun } from '../../lock/lock-run.ts';
import { openRemote, remoteOption } from '../remote-option.ts';
import { readThroughFrom } from '../../remote/read-through.ts';
import { relative } from 'node:path';
import { describeSweep, SWEEP_HELP, sweepOptions, sweepPlan, sweepSummary } from '../sweep-run.ts';

const usage = `pipeline run FILE ${OVERRIDE_USAGE} [--sweep PATH=V1,V2 [--sweep-random N]] [--only S] [--from S] [--force S] [--concurrency N] [--keep-going] [--store DIR] [--queue redis://HOST:PORT[/DB]] [--remote R]`;

export const runCommand: Command = {
  name: 'run',
  help: `usage: ${usage}

Runs the stages of an experiment file in dependency order, independent ones in parallel. A stage
instance whose type, version, params, inputs and input files are unchanged is reused from the cache.

options:
${OVERRIDE_HELP}
                       (recorded in the run record, tracking (tag pipeline.overrides) and pipeline.lock)
${SWEEP_HELP}
  --only S            run only stage S (and what it needs upstream); repeat or comma-separate
  --from S            rerun S and everything downstream of it
  --force S           rerun S even if cached (downstream reruns only if S's output changes)
  --concurrency N     stage instances (and items within a stage) at once (default: CPU count); a sweep's
                      variants share it
  --keep-going        after a failure, go on with what does not depend on it
${STORE_HELP}
${QUEUE_HELP}
  -r, --remote R      read through to a remote store (a name in pipeline.config.yaml, a folder or
                      mongodb://...): a stage output missing here but on the remote is fetched instead
                      of recomputed (a colleague's pipeline push)
  --no-lock           do not update pipeline.lock (by default a successful run records there what
                      produced each output; a sweep never writes it)
  --plain             one line per event even on a terminal (always for sweeps: one line per event,
                      prefixed with the variant)
  --verbose           show debug messages
exit codes: 0 ok, 1 a stage failed, 2 bad input or config (also: a stage rejected its input), 130 interrupted`,
  async run(argv) {
    const { values, positionals, help } = parse(argv, {
      ...storeOption,
      ...queueOption,
      ...overrideOptions,
      ...sweepOptions,
      ...remoteOption,
      only: { type: 'string', multiple: true },
      from: { type: 'string', multiple: true },
      force: { type: 'string', multiple: true },
      concurrency: { type: 'string', short: 'j' },
      'keep-going': { type: 'boolean', short: 'k' },
      plain: { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
      'no-lock': { type: 'boolean' },
    }, { min: 1, max: 1, usage });
    if (help) return console.log(this.help), ExitCode.ok;
    const overrides = parseOverrides(values.set);
    const sweep = sweepPlan(values);
    const variants = sweep && (await loadVariants(positionals[0], overrides, sweep.variants));
    const experiment = variants ? variants[0].experiment : await loadExperiment(positionals[0], { overrides });
    const concurrency = positiveInt(values.concurrency, '--concurrency');
    const store = await openStore(values.store);
    const level = values.verbose ? 'debug' : 'info';
    const reporter = process.stderr.isTTY && !values.plain && !process.env.CI && !sweep ? new TtyReporter(process.stderr, level) : new PlainReporter(undefined, level);
    const controller = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts > 1) process.exit(ExitCode.interrupted);
      process.stderr.write('\ninterrupted: stopping running stages (Ctrl-C again to quit at once)\n');
      controller.abort(new Error('interrupted'));
    };
    const log = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void reporter.handle({ type: 'log', runId: '', level, message, time: Date.now() });
    let executor;
    try {
      executor = await queueExecutor(values.queue, store, log);
    } catch (err) {
      await store.close();
      throw err;
    }
    if (executor) log('info', `stages run on workers through ${executor.description}`);
    let remote;
    try {
      remote = values.remote ? await openRemote(values.remote, store) : undefined;
    } catch (err) {
      await executor?.close();
      await store.close();
      throw err;
    }
    if (remote) log('info', `reading through to the remote ${remote.choice.display}`);
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    const readThrough = remote && readThroughFrom(remote.store, store, remote.choice.display);
    const common = { only: list(values.only), from: list(values.from), force: list(values.force), concurrency, keepGoing: values['keep-going'], signal: controller.signal, executor, readThrough };
    const sweepExitCode = (status: RunStatus) => (status === 'succeeded' ? ExitCode.ok : status === 'cancelled' ? ExitCode.interrupted : ExitCode.failed);
    try {
      if (sweep && variants) {
        process.stderr.write(describeSweep(sweep) + '\n');
        const result = await runSweep(store, {
          ...common,
          variants,
          axes: sweep.axes,
          mode: sweep.mode,
          seed: sweep.seed,
          metric: values['sweep-metric'],
          log,
          sinksFor: (variant) => [new PlainReporter((line) => process.stderr.write(`[${variant.name}] ${line}\n`), level)],
        });
        console.log(sweepSummary(result, sweep, experiment.file));
        return sweepExitCode(result.status);
      }
      const result = await runLoaded(experiment, store, { ...common, sinks: [reporter] });
      const locked = values['no-lock'] ? undefined : await lockRun(experiment, result, store);
      console.log(summaryTable(result, reporter.items));
      if (locked) console.log(`${relative(process.cwd(), locked.path) || locked.path}: ${locked.changed ? 'updated' : 'unchanged'} (${locked.instances} stage instances)`);
      const metrics = await headlineMetrics(store, result);
      if (metrics.length) console.log(['', 'metrics:', ...metrics.map((m) => `  ${m}`)].join('\n'));
      return exitCode(result);
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
      await executor?.close();
      await remote?.store.close();
      await store.close();
    }
  },
};

/** 0 ok, 130 cancelled, 2 when every failure is a stage rejecting its input (the user's to fix), else 1. */
export function exitCode(result: RunResult): number {
  if (result.status === 'succeeded') return ExitCode.ok;
  if (result.status === 'cancelled') return ExitCode.interrupted;
  const failed = result.instances.filter((i) => i.status === 'failed');
  return failed.length && failed.every((i) => i.inputError) ? ExitCode.badInput : ExitCode.failed;
}
