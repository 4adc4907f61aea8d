import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { list, parse, STORE_HELP, storeOption } from '../args.ts';
import { openStore } from '../../store/open.ts';
import { planLoaded } from '../../engine/runner.ts';
import { table } from '../reporters/format.ts';
import { loadWithOverrides, OVERRIDE_HELP, OVERRIDE_USAGE, overrideOptions } from '../override-options.ts';

const usage = `pipeline plan FILE ${OVERRIDE_USAGE} [--only S] [--from S] [--force S] [--store DIR] [--json]`;

export const planCommand: Command = {
  name: 'plan',
  help: `usage: ${usage}

For each stage instance: "cached", or "will run" with the reasons (first run, a param changed and
how, an input changed, the stage version changed, forced). Does no work and writes nothing.

options:
${OVERRIDE_HELP}
  --only S, --from S, --force S   as for pipeline run
${STORE_HELP}
  --json              machine-readable output`,
  async run(argv) {
    const { values, positionals, help } = parse(argv, { ...storeOption, ...overrideOptions, only: { type: 'string', multiple: true }, from: { type: 'string', multiple: true }, force: { type: 'string', multiple: true }, json: { type: 'boolean' } }, { min: 1, max: 1, usage });
    if (help) return console.log(this.help), ExitCode.ok;
    const experiment = await loadWithOverrides(positionals[0], values.set);
    const store = await openStore(values.store, { readOnly: true });
    try {
      const plan = await planLoaded(experiment, store, { only: list(values.only), from: list(values.from), force: list(values.force) });
      if (values.json) console.log(JSON.stringify(plan.map((p) => ({ instance: p.id, action: p.status === 'cached' ? 'cached' : 'run', reasons: p.reasons, key: p.key })), null, 2));
      else {
        if (experiment.overrides.length) console.log(`overrides (command line): ${experiment.overrides.join(', ')}\n`);
        console.log(table(['stage', 'action', 'why'], plan.map((p) => [p.id, p.status === 'cached' ? 'cached' : 'will run', p.reasons.join('; ')])));
        const runs = plan.filter((p) => p.status !== 'cached').length;
        console.log(`\n${runs} of ${plan.length} stage instances will run`);
        if (plan.some((p) => p.reasons.some((r) => r.endsWith(' will run')))) console.log('(a stage whose inputs will run stays cached if they produce the same output)');
      }
      return ExitCode.ok;
    } finally {
      await store.close();
    }
  },
};
