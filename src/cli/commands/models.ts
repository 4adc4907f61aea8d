import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { parse, UsageError } from '../args.ts';
import { table } from '../reporters/format.ts';
import { listRuns } from '../../engine/run-record.ts';
import { findTrackedRun } from '../../schedule/promote.ts';
import { openRegistry } from '../../tracking/connection.ts';
import { Tags } from '../../tracking/model.ts';
import { aliasProblem } from '../../tracking/registry/model.ts';
import { registerRunModels } from '../../tracking/registry/register-run.ts';
import { openTracking, TRACKING_HELP, trackingOptions } from './tracking-options.ts';

const usage = 'pipeline models list | show NAME | promote RUN --model NAME [--alias champion] [--json]';

function when(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '';
}

export const modelsCommand: Command = {
  name: 'models',
  help: `usage: ${usage}

The model registry of the tracker: MLflow's Model Registry when MLFLOW_TRACKING_URI (or --tracking-uri)
is set, else the local registry in the store. A version holds the models one pipeline run produced
(every model artifact: one per fold), registered from the run's parent run in the tracker; an alias
(default "champion") points at one version. Scheduled runs register their champion automatically
(tracking.promote); promote does it by hand.

  list                  registered models: latest version, aliases, last update
  show NAME             a model's versions: run, source, aliases, tags
  promote RUN           register the models of pipeline run RUN (id, unique prefix/suffix, or "last")
                        as a new version of --model and move --alias to it
  --model NAME          registered model name (promote; default: the run's experiment name)
  --alias NAME          alias to move (default champion; letters, digits, _ and -)
  --json                machine-readable output
${TRACKING_HELP}`,
  async run(argv) {
    const { values, positionals, help } = parse(argv, { ...trackingOptions, model: { type: 'string' }, alias: { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 2, usage });
    const [sub, arg] = positionals;
    if (help || !sub) return console.log(this.help), help ? ExitCode.ok : ExitCode.badInput;
    if (!['list', 'show', 'promote'].includes(sub)) throw new UsageError(`unknown models sub-command ${JSON.stringify(sub)}\nusage: ${usage}`);
    const { store, reader } = await openTracking(values);
    try {
      const registry = openRegistry({ store, uri: values['tracking-uri'] });
      if (sub === 'list') {
        const models = await registry.listModels();
        if (values.json) return console.log(JSON.stringify(models, null, 2)), ExitCode.ok;
        if (!models.length) return console.log(`no registered models in the ${registry.kind} registry (a scheduled run with tracking.promote, or pipeline models promote RUN, registers one)`), ExitCode.ok;
        console.log(table(['model', 'latest', 'aliases', 'updated'], models.map((m) => [m.name, m.latestVersion ?? '', Object.entries(m.aliases).map(([a, v]) => `${a}=v${v}`).join(', '), when(m.updated)])));
        return ExitCode.ok;
      }
      if (!arg) throw new UsageError(`pipeline models ${sub} needs ${sub === 'show' ? 'a model NAME' : 'a RUN'}\nusage: ${usage}`);
      if (sub === 'show') {
        const model = await registry.getModel(arg);
        if (!model) throw new UsageError(`no registered model ${JSON.stringify(arg)} in the ${registry.kind} registry (see pipeline models list)`);
        const versions = await registry.listVersions(arg);
        if (values.json) return console.log(JSON.stringify({ ...model, versions: versions.map(({ files: _files, ...v }) => v) }, null, 2)), ExitCode.ok;
        console.log(`model ${model.name} (${registry.kind} registry), ${versions.length} version(s)\n`);
        console.log(table(['version', 'aliases', 'pipeline run', 'created', 'source'], versions.map((v) => [v.version, v.aliases.join(', '), v.tags[Tags.pipelineRunId] ?? v.runId ?? '', when(v.created), v.source])));
        return ExitCode.ok;
      }
      const alias = values.alias ?? 'champion';
      const problem = aliasProblem(alias);
      if (problem) throw new UsageError(`--alias: ${problem}`);
      const records = await listRuns(store);
      const matches = arg === 'last' || arg === 'latest' ? records.slice(-1) : records.filter((r) => r.id === arg || r.id.startsWith(arg) || r.id.endsWith(arg));
      if (matches.length !== 1) throw new UsageError(matches.length ? `run ${arg} is ambiguous: ${matches.map((r) => r.id).join(', ')}` : `no pipeline run ${arg} in ${store.location} (see pipeline runs list)`);
      const record = matches[0];
      const tracked = await findTrackedRun(reader, record.id);
      if (!tracked) throw new UsageError(`run ${record.id} is not in the ${reader.kind} tracker (was tracking enabled, or another MLFLOW_TRACKING_URI used?)`);
      const name = values.model ?? tracked.experiment;
      const { version, instances } = await registerRunModels({ registry, store, runId: record.id, trackedRunId: tracked.id, name, alias });
      await reader.setTag(tracked.id, Tags.champion, 'true');
      if (values.json) return console.log(JSON.stringify({ model: name, version: version.version, alias, source: version.source, instances }, null, 2)), ExitCode.ok;
      console.log(`registered ${name} version ${version.version} from run ${record.id} (${instances.join(', ')}); alias ${alias} -> v${version.version} (${registry.kind} registry)`);
      return ExitCode.ok;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      console.error(`error: ${err instanceof Error ? err.message : err}`);
      return ExitCode.failed;
    } finally {
      await store.close();
    }
  },
};
