import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { parse, UsageError } from '../args.ts';
import { compareRuns, formatComparison, resolveRun } from '../../tracking/compare.ts';
import { openTracking, TRACKING_HELP, trackingOptions } from './tracking-options.ts';
import { formatSweepTable, sweepTable, sweepVariants } from '../../tracking/sweep-table.ts';
import { Tags } from '../../tracking/model.ts';

const usage = 'pipeline runs compare A B [C..] | SWEEP [--format table|md|json] [--all-params] [--metric REGEX]';

export const runsCompareCommand: Command = {
  name: 'runs compare',
  help: `usage: ${usage}

Compares two or more tracked runs (local tracker, or MLflow when MLFLOW_TRACKING_URI is set). A run is
named by its id, the pipeline run id, a unique prefix or suffix of it, or "last". Pipeline runs carry
every stage's params (<stage>.<param>) and final metrics (<instance>/<metric>); stage-instance runs
(e.g. <run>/train[fold=2] locally, or an MLflow child run id) compare too.

A single sweep run (pipeline run --sweep; its id is printed at the end, sweep-...) gives one table of
its variants: one row per variant with the swept params as columns and their metrics (--metric to
choose them), the best variant marked *.

  --format F            table (default), md (Markdown) or json
  --all-params          list every param, not only those that differ
  --metric REGEX        only metrics whose name matches
${TRACKING_HELP}`,
  async run(argv) {
    const { values, positionals, help } = parse(argv, { ...trackingOptions, format: { type: 'string' }, 'all-params': { type: 'boolean' }, metric: { type: 'string' } }, { min: 1, max: 50, usage });
    if (help) return console.log(this.help), ExitCode.ok;
    const format = values.format ?? 'table';
    if (!['table', 'md', 'json'].includes(format)) throw new UsageError(`--format must be table, md or json, got ${JSON.stringify(format)}`);
    let metricFilter: RegExp | undefined;
    try {
      metricFilter = values.metric ? new RegExp(values.metric) : undefined;
    } catch (err: any) {
      throw new UsageError(`--metric is not a valid regular expression: ${err.message}`);
    }
    const { store, reader } = await openTracking(values, { readOnly: true });
    try {
      if (positionals.length === 1) {
        const sweep = await resolveRun(reader, positionals[0]).catch((err) => {
          throw new UsageError(err.message);
        });
        if (sweep.tags[Tags.sweep] === undefined) throw new UsageError(`${positionals[0]} is not a sweep run: give two or more runs to compare, or a sweep id (sweep-...)`);
        process.stdout.write(formatSweepTable(sweepTable(sweep, await sweepVariants(reader, sweep), { metricFilter }), format as 'table' | 'md' | 'json'));
        return ExitCode.ok;
      }
      const runs = [];
      for (const ref of positionals) {
        try {
          runs.push(await resolveRun(reader, ref));
        } catch (err: any) {
          throw new UsageError(err.message);
        }
      }
      const comparison = compareRuns(runs, { allParams: values['all-params'], metricFilter });
      process.stdout.write(formatComparison(comparison, format as 'table' | 'md' | 'json'));
      return ExitCode.ok;
    } finally {
      await store.close();
    }
  },
};
