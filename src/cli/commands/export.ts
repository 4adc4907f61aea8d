import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { parse, STORE_HELP, storeOption, UsageError } from '../args.ts';
import { openStore } from '../../store/open.ts';
import { Collections } from '../../store/store.ts';
import { latestId, type LatestEntry } from '../../engine/cache-key.ts';
import { loadArtifact } from '../../engine/artifact.ts';
import { planLoaded } from '../../engine/runner.ts';
import { exportArtifact, instanceDir } from '../../export/export-artifact.ts';
import { DiagnosticError, didYouMean } from '../../engine/diagnostics.ts';
import { readLockedSection } from '../../lock/lock-file.ts';
import { loadWithOverrides, OVERRIDE_HELP, OVERRIDE_USAGE, overrideFlags, overrideOptions, sameOverrides } from '../override-options.ts';

const usage = `pipeline export FILE STAGE DIR ${OVERRIDE_USAGE} [--stale] [--store DIR]`;

export const exportCommand: Command = {
  name: 'export',
  help: `usage: ${usage}

Writes the output of STAGE for the experiment as it is now as files you can open: a dataset as
images/<id>.png plus manifest.csv (one row per image), models, reports and plots as their files, and
artifact.json. A fan-out stage (foreach) gets one sub-folder per instance, e.g. DIR/fold=2/.
If the stage's params, inputs or input files changed since its output was made, export refuses and
says why (the reasons pipeline plan gives): run it first, or pass --stale. The outputs of a run made
with -S overrides are exported with the same -S flags.

options:
${OVERRIDE_HELP}
  --stale             export the last output made even if it no longer matches the experiment
${STORE_HELP}`,
  async run(argv) {
    const { values, positionals, help } = parse(argv, { ...storeOption, ...overrideOptions, stale: { type: 'boolean' } }, { min: 3, max: 3, usage });
    if (help) return console.log(this.help), ExitCode.ok;
    const [file, stage, dir] = positionals;
    const experiment = await loadWithOverrides(file, values.set, { skipExternalChecks: true });
    const instances = experiment.instances.filter((i) => i.stage === stage || i.id === stage);
    if (!instances.length) {
      const guess = didYouMean(stage, experiment.stageIds);
      throw new UsageError(`no stage ${stage} in ${file}${guess ? ` (did you mean ${guess}?)` : ''}`);
    }
    const store = await openStore(values.store, { readOnly: true });
    try {
      // What `plan` would say: an instance is current when its output for today's key is in the store.
      const plan = new Map((await planLoaded(experiment, store, { only: [stage] })).map((p) => [p.id, p]));
      const chosen: Array<{ id: string; vars: Record<string, unknown>; digest: string }> = [];
      const stale: string[] = [];
      for (const inst of instances) {
        const p = plan.get(inst.id)!;
        if (p.status === 'cached' && p.artifact) {
          chosen.push({ id: inst.id, vars: inst.vars, digest: p.artifact });
          continue;
        }
        const latest = await store.getDoc<LatestEntry>(Collections.latest, latestId(experiment.latestScope, inst.id));
        if (!latest) throw new UsageError(`${inst.id} has no output in ${store.location} yet: run ${rerunCommand(file, inst.stage, experiment.overrides)}`);
        if (values.stale) {
          console.error(`warning: exporting the stale output of ${inst.id} (${p.reasons.join('; ')})`);
          chosen.push({ id: inst.id, vars: inst.vars, digest: latest.artifact });
        } else stale.push(`${inst.id}: ${p.reasons.join('; ')}`);
      }
      if (stale.length) {
        throw new DiagnosticError([{ message: `the output of ${stage} is stale, so it is not exported:\n  ${stale.join('\n  ')}`, hint: await staleHint({ file, stage, dir, overrides: experiment.overrides }) }]);
      }
      for (const c of chosen) {
        const artifact = await loadArtifact(store, c.digest);
        if (!artifact) throw new UsageError(`the output of ${c.id} (artifact ${c.digest.slice(0, 12)}) is no longer in ${store.location} (freed by gc?): run ${rerunCommand(file, stage, experiment.overrides)}`);
        const sub = instanceDir(dir, c.vars);
        const { files } = await exportArtifact(store, artifact, sub);
        console.log(`${c.id}: ${files} files -> ${sub}`);
      }
      return ExitCode.ok;
    } finally {
      await store.close();
    }
  },
};

/**
 * Run it first (with this command's -S flags), or pass --stale. When pipeline.lock's last run used
 * other -S overrides, its outputs are likely the ones wanted: name the export command that takes them.
 */
async function staleHint(args: { file: string; stage: string; dir: string; overrides: readonly string[] }): Promise<string> {
  const { file, stage, dir, overrides } = args;
  const run = `run it first (${rerunCommand(file, stage, overrides)}), or pass --stale to export the last output anyway`;
  const section = await readLockedSection(file);
  const locked = section?.overrides ?? [];
  if (!section || sameOverrides(locked, overrides)) return `${run}; a run made with -S overrides is exported with the same -S flags`;
  const same = ['pipeline export', file, stage, dir, overrideFlags(locked)].filter(Boolean).join(' ');
  return `${run}; pipeline.lock's last run was made with ${locked.length ? 'other -S overrides' : 'no -S overrides'}, its outputs are exported by: ${same}`;
}

function rerunCommand(file: string, stage: string, overrides: readonly string[]): string {
  return ['pipeline run', file, overrideFlags(overrides), '--only', stage].filter(Boolean).join(' ');
}
