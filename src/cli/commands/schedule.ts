import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { parse, positiveInt, STORE_HELP, storeOption, UsageError } from '../args.ts';
import { openStore } from '../../store/open.ts';
import { loadExperiment } from '../../experiment/load.ts';
import { OVERRIDE_HELP, OVERRIDE_USAGE, overrideOptions, parseOverrides } from '../override-options.ts';
import { runPipeline } from '../../engine/runner.ts';
import { PlainReporter } from '../reporters/plain.ts';
import { Scheduler } from '../../schedule/scheduler.ts';
import { trackingConfigSchema } from '../../tracking/config.ts';
import { openReader, openRegistry } from '../../tracking/connection.ts';

const usage = `pipeline schedule FILE --cron "0 3 * * 0" ${OVERRIDE_USAGE} [--timezone Europe/Paris] [--max-runs N] [--store DIR]\n       pipeline schedule FILE --once ${OVERRIDE_USAGE}`;

export const scheduleCommand: Command = {
  name: 'schedule',
  help: `usage: ${usage}

Stays in the foreground and runs FILE whenever the cron expression fires (croner syntax: 5 fields, or 6
with seconds first; e.g. "0 3 * * 0" = Sundays 03:00). A trigger that fires while the previous run is
still going is skipped, never run in parallel. Every trigger is recorded in the store (collection
schedule-runs). With \`tracking: { promote: { metric: auc_macro, mode: max } }\` in FILE, a successful run
becomes champion (tag pipeline.champion=true, in MLflow or the local tracker) only if it beats the
current champion; its models are then registered as a new version of the registered model (MLflow
Model Registry, or the local one) and the alias "champion" moves to it (see pipeline models). Unchanged stages are cached, so a run with no new data is quick.
For unattended use see infra/systemd and infra/kubernetes (there the platform triggers \`pipeline run\`).

  --cron EXPR           cron expression (required unless --once)
  --once                run now, record and promote like a scheduled run, and exit (for a systemd
                        timer or a Kubernetes CronJob; exit code 1 if the run did not succeed)
  --timezone TZ         IANA time zone of the expression (default: the machine's)
  --max-runs N          stop after N runs (a trigger skipped because the previous run
                        is still going does not count)
  --concurrency N       passed to each run
${OVERRIDE_HELP}
                       (applied to every run, as pipeline run -S)
${STORE_HELP}`,
  async run(argv) {
    const { values, positionals, help } = parse(argv, { ...storeOption, ...overrideOptions, cron: { type: 'string' }, timezone: { type: 'string' }, 'max-runs': { type: 'string' }, concurrency: { type: 'string' }, once: { type: 'boolean' } }, { min: 1, max: 1, usage });
    if (help) return console.log(this.help), ExitCode.ok;
    if (!values.cron && !values.once) throw new UsageError(`--cron is required, e.g. --cron "0 3 * * 0"\nusage: ${usage}`);
    const file = positionals[0];
    const overrides = parseOverrides(values.set);
    const experiment = await loadExperiment(file, { overrides });
    const tracking = trackingConfigSchema.parse(experiment.tracking ?? {});
    const store = await openStore(values.store);
    const log = (level: string, message: string) => console.error(`${new Date().toISOString().slice(0, 19)} ${level === 'info' ? '' : level + ': '}${message}`);
    let scheduler: Scheduler;
    try {
      scheduler = new Scheduler({
        file,
        cron: values.cron ?? 'once',
        timezone: values.timezone,
        store,
        run: runPipeline,
        runOptions: { store: values.store, overrides, concurrency: positiveInt(values.concurrency, '--concurrency'), sinks: [new PlainReporter()] },
        promote: tracking.promote && tracking.enabled ? { config: tracking.promote, reader: openReader({ store, uri: tracking.uri }), registry: openRegistry({ store, uri: tracking.uri }), experiment: tracking.experiment ?? experiment.name } : undefined,
        log,
        maxRuns: positiveInt(values['max-runs'], '--max-runs'),
      });
      if (!values.once) scheduler.start();
    } catch (err) {
      await store.close();
      if (err instanceof UsageError) throw err;
      throw new UsageError(`invalid --cron ${JSON.stringify(values.cron)}: ${err instanceof Error ? err.message : err}`);
    }
    if (values.once) {
      try {
        const record = await scheduler.runOnce();
        return record.status === 'succeeded' ? ExitCode.ok : ExitCode.failed;
      } finally {
        await store.close();
      }
    }
    log('info', `schedule: ${experiment.name} (${file}) on "${values.cron}"; next run at ${scheduler.nextRun()?.toISOString() ?? 'never'}`);
    const stop = () => void scheduler.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await scheduler.done;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await store.close();
    return ExitCode.ok;
  },
};
