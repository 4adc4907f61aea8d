import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { parse, STORE_HELP, storeOption, UsageError } from '../args.ts';
import { openStore } from '../../store/open.ts';
import { loadExperiment } from '../../experiment/load.ts';
import { Collections } from '../../store/store.ts';
import { latestId, type LatestEntry } from '../../engine/cache-key.ts';
import { loadArtifact } from '../../engine/artifact.ts';
import { exportArtifact, instanceDir } from '../../export/export-artifact.ts';
import { didYouMean } from '../../engine/diagnostics.ts';

const usage = 'pipeline export FILE STAGE DIR [--store DIR]';

export const exportCommand: Command = {
  name: 'export',
  help: `usage: ${usage}

Writes the latest output of STAGE as files you can open: a dataset as images/<id>.png plus
manifest.csv (one row per image), models, reports and plots as their files, and artifact.json.
A fan-out stage (foreach) gets one sub-folder per instance, e.g. DIR/fold=2/.
${STORE_HELP}`,
  async run(argv) {
    const { values, positionals, help } = parse(argv, storeOption, { min: 3, max: 3, usage });
    if (help) return console.log(this.help), ExitCode.ok;
    const [file, stage, dir] = positionals;
    const experiment = await loadExperiment(file, { skipExternalChecks: true });
    const instances = experiment.instances.filter((i) => i.stage === stage || i.id === stage);
    if (!instances.length) {
      const guess = didYouMean(stage, experiment.stageIds);
      throw new UsageError(`no stage ${stage} in ${file}${guess ? ` (did you mean ${guess}?)` : ''}`);
    }
    const store = await openStore(values.store);
    try {
      for (const inst of instances) {
        const latest = await store.getDoc<LatestEntry>(Collections.latest, latestId(experiment.latestScope, inst.id));
        const artifact = latest && (await loadArtifact(store, latest.artifact));
        if (!artifact) throw new UsageError(`${inst.id} has no output in ${store.location} yet: run pipeline run ${file} --only ${inst.stage}`);
        const sub = instanceDir(dir, inst.vars);
        const { files } = await exportArtifact(store, artifact, sub);
        console.log(`${inst.id}: ${files} files -> ${sub}`);
      }
      return ExitCode.ok;
    } finally {
      await store.close();
    }
  },
};
