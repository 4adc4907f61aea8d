import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { parse, STORE_HELP, storeOption } from '../args.ts';
import { openStore } from '../../store/open.ts';
import { collectGarbage } from '../../engine/gc.ts';

const usage = 'pipeline gc [--dry-run] [--store DIR]';

export const gcCommand: Command = {
  name: 'gc',
  help: `usage: ${usage}

Keeps the latest output of every stage instance of every experiment run against this store (and
whatever those outputs reference, such as images and per-item cache entries); frees the rest.
Training checkpoints (what lets a killed training resume) are dropped too. Run records are kept.
  --dry-run           print what would be freed, free nothing
${STORE_HELP}`,
  async run(argv) {
    const { values, help } = parse(argv, { ...storeOption, 'dry-run': { type: 'boolean', short: 'n' } }, { min: 0, max: 0, usage });
    if (help) return console.log(this.help), ExitCode.ok;
    const store = await openStore(values.store);
    try {
      const r = await collectGarbage(store, { dryRun: values['dry-run'] });
      const verb = values['dry-run'] ? 'would free' : 'freed';
      console.log(`${verb} ${r.artifacts} artifacts, ${r.cacheEntries} cache entries, ${r.items} item results, ${r.checkpoints} training checkpoints, ${r.blobs} blobs (${(r.bytes / 1e6).toFixed(1)} MB) in ${store.location}`);
      return ExitCode.ok;
    } finally {
      await store.close();
    }
  },
};
