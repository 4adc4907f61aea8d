import { relative } from 'node:path';
import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { parse, STORE_HELP, storeOption } from '../args.ts';
import { openStore } from '../../store/open.ts';
import { lockStatus } from '../../lock/status.ts';
import { table } from '../reporters/format.ts';
import { loadWithOverrides, OVERRIDE_HELP, OVERRIDE_USAGE, overrideOptions, sameOverrides } from '../override-options.ts';

const usage = `pipeline status FILE ${OVERRIDE_USAGE} [--store DIR] [--json] [--quiet]`;

export const statusCommand: Command = {
  name: 'status',
  help: `usage: ${usage}

Compares the experiment file (and its templates), the files it reads (DICOM folders, label CSVs),
the stage code and the store with pipeline.lock next to the file (written by the last successful
pipeline run), like dvc status. Per stage instance: "changed" with the reasons (a param and how, a
file's content, the stage version or module source, an upstream stage that changed), "new" (not in
the lock), "removed" (in the lock only), "not in store" (the locked output is not in this store:
pipeline pull, or pipeline run), or up to date. Runs nothing and writes nothing (not even to the store).

options:
${OVERRIDE_HELP}
${STORE_HELP}
  --json              machine-readable output
  -q, --quiet         print nothing; exit code 1 if anything is not up to date, 0 otherwise
exit codes: 0 (with --quiet: up to date), 1 (with --quiet: something changed), 2 bad input`,
  async run(argv) {
    const { values, positionals, help } = parse(argv, { ...storeOption, ...overrideOptions, json: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' } }, { min: 1, max: 1, usage });
    if (help) return console.log(this.help), ExitCode.ok;
    const experiment = await loadWithOverrides(positionals[0], values.set);
    const store = await openStore(values.store, { readOnly: true });
    try {
      const status = await lockStatus(experiment, store);
      const notUpToDate = status.instances.filter((i) => i.state !== 'up to date');
      if (values.quiet) return notUpToDate.length ? ExitCode.failed : ExitCode.ok;
      if (values.json) return console.log(JSON.stringify(status, null, 2)), ExitCode.ok;
      const lock = relative(process.cwd(), status.lockPath) || status.lockPath;
      if (!status.locked) {
        console.log(`${lock} has no entry for ${relative(process.cwd(), experiment.file)}: nothing is locked yet (pipeline run writes it after a successful run)`);
        return ExitCode.ok;
      }
      const notes: string[] = [];
      if (!sameOverrides(status.lockOverrides, status.overrides)) notes.push(`the lock was written with ${status.lockOverrides.length ? `command-line overrides: ${status.lockOverrides.join(', ')}` : 'no command-line overrides'}; compared now with ${status.overrides.length ? status.overrides.join(', ') : 'the file as it is'}`);
      if (status.fileChanged && !notUpToDate.length) notes.push(`${relative(process.cwd(), experiment.file)} changed since the lock was written, but no stage is affected`);
      if (!notUpToDate.length) {
        console.log([`${lock}: ${status.instances.length} stage instances up to date`, ...notes].join('\n'));
        return ExitCode.ok;
      }
      console.log(`${lock}: ${notUpToDate.length} of ${status.instances.length} stage instances not up to date\n`);
      console.log(table(['stage', 'state', 'why'], notUpToDate.map((i) => [i.id, i.state, i.reasons.join('; ')])));
      const upToDate = status.instances.length - notUpToDate.length;
      console.log([``, ...(upToDate ? [`${upToDate} up to date`] : []), ...notes].join('\n'));
      if (notUpToDate.some((i) => i.state === 'not in store')) console.log(`outputs not in the store: pipeline pull ${relative(process.cwd(), experiment.file)} (from a remote), or pipeline run to recompute`);
      return ExitCode.ok;
    } finally {
      await store.close();
    }
  },
};
