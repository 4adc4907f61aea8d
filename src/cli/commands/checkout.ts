import { relative } from 'node:path';
import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { parse, STORE_HELP, storeOption, UsageError } from '../args.ts';
import { describeOverrides, loadWithOverrides, OVERRIDE_HELP, OVERRIDE_USAGE, overrideFlags, overrideOptions, sameOverrides, shellWord } from '../override-options.ts';
import { openStore } from '../../store/open.ts';
import { checkoutLock, CheckoutError } from '../../lock/checkout.ts';

const usage = `pipeline checkout FILE [STAGE [DIR]] ${OVERRIDE_USAGE} [--store DIR]`;

export const checkoutCommand: Command = {
  name: 'checkout',
  help: `usage: ${usage}

Makes the store's view of the experiment match pipeline.lock (like dvc checkout): every locked
output found complete in the store becomes the stage's latest output again (what pipeline export
reads) and its cache entry is restored (pipeline run reuses it). With DIR, STAGE's locked outputs are
also written there as files, as pipeline export writes them (a sub-folder per fan-out instance).
Nothing runs: an output the store lacks is an error that names it (fetch it with pipeline pull).

  STAGE               a stage (all its instances) or one instance (train[fold=2]); default: every stage
${OVERRIDE_HELP}
                       (the restored outputs are the lock's: a warning names both when the
                       lock's last run used other -S flags)
${STORE_HELP}
exit codes: 0 ok, 1 some locked outputs are not in the store, 2 bad input`,
  async run(argv) {
    const { values, positionals, help } = parse(argv, { ...storeOption, ...overrideOptions }, { min: 1, max: 3, usage });
    if (help) return console.log(this.help), ExitCode.ok;
    const [file, stage, dir] = positionals;
    const experiment = await loadWithOverrides(file, values.set, { skipExternalChecks: true });
    const store = await openStore(values.store);
    try {
      const result = await checkoutLock(experiment, store, { stage, dir });
      if (!sameOverrides(result.lockOverrides, experiment.overrides)) console.error(overridesWarning(file, result.lockOverrides, experiment.overrides));
      for (const e of result.exported) console.log(`${e.id}: ${e.files} files -> ${relative(process.cwd(), e.dir) || e.dir}`);
      console.log(`restored ${result.restored.length} locked stage output(s) from ${store.location}`);
      if (!result.missing.length) return ExitCode.ok;
      console.error([`error: ${result.missing.length} locked output(s) are not in the store:`, ...result.missing.map((m) => `  ${m.id}: ${m.what}`), `hint: fetch them with pipeline pull ${relative(process.cwd(), experiment.file)} (from the team's remote), or recompute them with pipeline run`].join('\n'));
      return ExitCode.failed;
    } catch (err) {
      if (err instanceof CheckoutError) throw new UsageError(err.message);
      throw err;
    } finally {
      await store.close();
    }
  },
};

/**
 * Checkout restores the lock's outputs whatever -S it is given: when the run that wrote the lock used
 * other overrides, they are not the outputs of the experiment as this command sets it.
 */
function overridesWarning(file: string, locked: readonly string[], given: readonly string[]): string {
  return [
    `warning: pipeline.lock's last run was made with ${describeOverrides(locked)}, this checkout has ${describeOverrides(given)}: the restored outputs are that run's (the lock's), not those of the experiment with this command's -S flags`,
    `hint: pipeline status ${shellWord(file)}${given.length ? ` ${overrideFlags(given)}` : ''} lists what differs; pipeline run ${shellWord(file)}${given.length ? ` ${overrideFlags(given)}` : ''} makes (and locks) the outputs for these flags`,
  ].join('\n');
}
