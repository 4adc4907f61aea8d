import { relative } from 'node:path';
import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { list, parse, positiveInt, STORE_HELP, storeOption, UsageError } from '../args.ts';
import { loadWithOverrides, OVERRIDE_HELP, OVERRIDE_USAGE, overrideOptions } from '../override-options.ts';
import { openStore } from '../../store/open.ts';
import type { Store } from '../../store/store.ts';
import { planLoaded } from '../../engine/runner.ts';
import { allLatestOutputs, experimentOutputs, type OutputRef } from '../../remote/select.ts';
import { transfer, type TransferProgress, type TransferReport } from '../../remote/transfer.ts';
import { readThroughFrom } from '../../remote/read-through.ts';
import { openRemote, REMOTE_HELP, remoteOption } from '../remote-option.ts';
import { CheckoutError, checkoutLock } from '../../lock/checkout.ts';

const options = { ...storeOption, ...remoteOption, ...overrideOptions, stage: { type: 'string', multiple: true }, jobs: { type: 'string', short: 'j' } } as const;

function help(direction: 'push' | 'pull'): string {
  const usage = `pipeline ${direction} ${direction === 'push' ? '[FILE]' : 'FILE'} ${OVERRIDE_USAGE} [--remote NAME|URL] [--stage S] [--store DIR] [--jobs N]`;
  const what =
    direction === 'push'
      ? `Copies stage outputs from the local store to a remote store (a folder on shared storage, or a
MongoDB GridFS database): with FILE the outputs its pipeline.lock records (else the latest outputs of
its stages), without FILE the latest output of every stage of every experiment in the store.`
      : `Copies the stage outputs FILE's pipeline.lock records from a remote store into the local store and
checks them out (like dvc pull: pipeline run finds them cached, pipeline export writes them). Without a lock,
pulls what the experiment would need, stage by stage in dependency order (as pipeline run --remote
reads through, without running anything).`;
  return `usage: ${usage}

${what}
Only what the other side lacks is copied; every blob is verified against its digest; records are
written after the blobs they name and the cache entry last, so an interrupted ${direction} leaves no
partial record and the next one completes it. Progress on stderr.

options:
${REMOTE_HELP}
${OVERRIDE_HELP}
                       (with FILE; without a lock, pull fetches what a run with the same -S would reuse)
  --stage S           only stage S (all its instances) or one instance; repeatable
  -j, --jobs N        blobs copied at once (default 8)
${STORE_HELP}
exit codes: 0 ok, 1 some outputs are not in the ${direction === 'push' ? 'local store' : 'remote'}, 2 bad input`;
}

function pushPull(direction: 'push' | 'pull'): Command {
  return {
    name: direction,
    help: help(direction),
    async run(argv) {
      const { values, positionals, help: wantHelp } = parse(argv, options, { min: direction === 'pull' ? 1 : 0, max: 1, usage: help(direction).split('\n')[0].slice('usage: '.length) });
      if (wantHelp) return console.log(this.help), ExitCode.ok;
      const stages = list(values.stage);
      if ((stages?.length || values.set?.length) && !positionals[0]) throw new UsageError(`${stages?.length ? '--stage' : '-S'} needs the experiment FILE`);
      const jobs = positiveInt(values.jobs, '--jobs');
      const experiment = positionals[0] ? await loadWithOverrides(positionals[0], values.set, { skipExternalChecks: true }) : undefined;
      const local = await openStore(values.store);
      let remote: Store | undefined;
      try {
        const opened = await openRemote(values.remote, local, { create: direction === 'push' });
        remote = opened.store;
        const [from, to] = direction === 'push' ? [local, remote] : [remote, local];
        const label = `${direction} ${direction === 'push' ? 'to' : 'from'} ${opened.choice.display}`;
        let refs: OutputRef[] = [];
        let source = 'the latest outputs in the store';
        try {
          if (experiment) {
            for (const stage of stages ?? [undefined]) {
              const found = await experimentOutputs(experiment, local, stage);
              refs.push(...found.refs);
              source = found.from === 'lock' ? `as ${relative(process.cwd(), experiment.file)}'s pipeline.lock records` : `the latest outputs of ${relative(process.cwd(), experiment.file)}`;
              if (found.from === 'latest' && direction === 'pull') {
                // No lock to say what the results are: pull what a run would reuse, stage by stage.
                const plan = await planLoaded(experiment, local, { only: stage ? [stage] : undefined, readThrough: readThroughFrom(remote, local, opened.choice.display) });
                const pulled = plan.filter((p) => p.reasons.some((r) => r.startsWith('pulled from')));
                const notThere = plan.filter((p) => p.status !== 'cached');
                console.log(`${label}: no pipeline.lock entry for ${relative(process.cwd(), experiment.file)}; pulled ${pulled.length} stage output(s) a run would reuse, ${plan.length - pulled.length - notThere.length} were here already${notThere.length ? `; not on the remote (they will run): ${notThere.map((p) => p.id).join(', ')}` : ''}`);
                return ExitCode.ok;
              }
            }
          } else refs = await allLatestOutputs(local);
        } catch (err) {
          if (err instanceof CheckoutError) throw new UsageError(err.message);
          throw err;
        }
        process.stderr.write(`${label}: ${refs.length} stage output(s), ${source}\n`);
        const progress = progressPrinter(direction);
        const report = await transfer({ from, to, keys: refs.map((r) => r.key), concurrency: jobs, onProgress: progress.update });
        progress.done();
        console.log(summary(direction, report));
        if (direction === 'pull' && experiment) {
          // Like dvc pull (fetch + checkout): the pulled locked outputs become the experiment's latest ones.
          let restored = 0;
          for (const stage of stages ?? [undefined]) restored += (await checkoutLock(experiment, local, { stage })).restored.length;
          console.log(`restored ${restored} locked stage output(s) (pipeline export reads them; pipeline run finds them cached)`);
        }
        const missing = refs.filter((r) => report.missing.includes(r.key));
        const conflicts = refs.filter((r) => report.conflicts.includes(r.key));
        if (conflicts.length) console.log(`kept the ${direction === 'push' ? 'remote' : 'local'} output of ${conflicts.map((r) => r.instance).join(', ')}: it has another output for the same cache key (a stage whose output is not deterministic); the first one written wins`);
        if (!missing.length) return ExitCode.ok;
        console.error(`error: not in the ${direction === 'push' ? 'local store' : 'remote'}: ${missing.map((r) => r.instance).join(', ')}${direction === 'push' ? ' (run the experiment first)' : ' (whoever ran them has not pushed them; pipeline run computes them)'}`);
        return ExitCode.failed;
      } finally {
        await remote?.close();
        await local.close();
      }
    },
  };
}

function summary(direction: 'push' | 'pull', r: TransferReport): string {
  const verb = direction === 'push' ? 'pushed' : 'pulled';
  return `${verb} ${r.copied} stage output(s): ${r.blobs} blobs (${mb(r.bytes)}), ${r.docs} records; ${r.present} already there`;
}

function mb(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A progress line on stderr: redrawn in place on a terminal, else one line every few seconds. */
function progressPrinter(direction: string) {
  const tty = process.stderr.isTTY && !process.env.CI;
  const every = tty ? 100 : 2000;
  let last = 0;
  let shown: TransferProgress | undefined;
  const line = (p: TransferProgress) => `${direction}: ${p.blobs.done}/${p.blobs.total} blobs, ${mb(p.bytes.done)}/${mb(p.bytes.total)}, ${p.outputs.done}/${p.outputs.total} stage outputs`;
  return {
    update(p: TransferProgress) {
      shown = p;
      const now = Date.now();
      if (now - last < every) return;
      last = now;
      process.stderr.write(tty ? `\r${line(p)}\x1b[K` : `${line(p)}\n`);
    },
    done() {
      if (shown?.blobs.total || shown?.outputs.total) process.stderr.write(tty ? `\r${line(shown)}\x1b[K\n` : `${line(shown)}\n`);
    },
  };
}

export const pushCommand = pushPull('push');
export const pullCommand = pushPull('pull');
