import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { parse, STORE_HELP, storeOption, UsageError } from '../args.ts';
import { openStore } from '../../store/open.ts';
import { effectiveStatus, listRuns, type RunRecord } from '../../engine/run-record.ts';
import { formatDuration, formatItems, table } from '../reporters/format.ts';
import { Collections } from '../../store/store.ts';
import { runsSubcommands } from './index.ts';


/** Computed when used: runsSubcommands comes from index.ts, which imports this module. */
const usage = () => `pipeline runs list|show ID [--json]|${runsSubcommands.map((c) => c.name.replace(/^runs /, '')).join('|')} [--store DIR]`;

function when(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

async function findRun(store: Awaited<ReturnType<typeof openStore>>, id: string): Promise<RunRecord> {
  const runs = await listRuns(store);
  if (id === 'last' || id === 'latest') {
    const last = runs.at(-1);
    if (!last) throw new UsageError('no runs recorded in this store yet');
    return last;
  }
  const exact = await store.getDoc<RunRecord>(Collections.runs, id);
  if (exact) return exact;
  const matches = runs.filter((r) => r.id.startsWith(id) || r.id.endsWith(id));
  if (matches.length === 1) return matches[0];
  throw new UsageError(matches.length ? `run id ${id} is ambiguous: ${matches.map((r) => r.id).join(', ')}` : `no run ${id} (see pipeline runs list)`);
}

export const runsCommand: Command = {
  name: 'runs',
  get help() {
    const extra = runsSubcommands.map((c) => `  ${c.name.replace(/^runs /, '').padEnd(18)}${c.summary}`).join('\n');
    return `usage: ${usage()}

  list              every recorded run: id, experiment, status, start, duration, stage counts
                    (--json: the run records)
  show ID           one run: its file, git commit, and each stage instance's status, time, cache key,
                    artifact, error and (with a queue) the workers that ran it (ID may be a prefix,
                    a suffix, or "last")
${extra}
${STORE_HELP}`;
  },
  async run(argv) {
    const [sub, ...rest] = argv;
    const extra = sub ? runsSubcommands.find((c) => c.name === `runs ${sub}`) : undefined;
    if (extra) return (await extra.load()).run(rest);
    const { values, positionals, help } = parse(rest, { ...storeOption, json: { type: 'boolean' } }, { min: 0, max: 1, usage: usage() });
    if (help || !sub || sub === '--help' || sub === '-h') return console.log(this.help), ExitCode.ok;
    const store = await openStore(values.store, { readOnly: true });
    try {
      if (sub === 'list') {
        const runs = await listRuns(store);
        if (values.json) return console.log(JSON.stringify(runs, null, 2)), ExitCode.ok;
        if (!runs.length) return console.log(`no runs recorded in ${store.location}`), ExitCode.ok;
        const count = (r: RunRecord, s: string) => r.instances.filter((i) => i.status === s).length;
        console.log(table(['id', 'experiment', 'status', 'started', 'time', 'ran', 'cached', 'failed'], runs.map((r) => [r.id, r.experiment, effectiveStatus(r), when(r.startedAt), r.endedAt ? formatDuration(r.endedAt - r.startedAt) : '', String(count(r, 'ran')), String(count(r, 'cached')), String(count(r, 'failed'))])));
        return ExitCode.ok;
      }
      if (sub === 'show') {
        if (!positionals[0]) throw new UsageError('usage: pipeline runs show ID');
        const r = await findRun(store, positionals[0]);
        if (values.json) return console.log(JSON.stringify(r, null, 2)), ExitCode.ok;
        console.log([`run        ${r.id}`, `experiment ${r.experiment} (${r.file}, sha256 ${r.fileHash.slice(0, 12)})`, `git        ${gitLine(r)}`, `status     ${effectiveStatus(r)}`, `started    ${when(r.startedAt)}${r.endedAt ? `, took ${formatDuration(r.endedAt - r.startedAt)}` : ''}`, `command    pipeline ${r.argv.join(' ')}`, ...(r.overrides?.length ? [`overrides  ${r.overrides.join(', ')}`] : []), ...(r.sweep ? [`sweep      ${r.sweep.id} (variant ${r.sweep.variant})`] : []), ''].join('\n'));
        const remote = r.instances.some((i) => i.workers?.length);
        console.log(table(['stage', 'status', 'time', 'items', 'cache key', 'artifact', ...(remote ? ['worker'] : [])], r.instances.map((i) => [i.id, i.status, i.durationMs !== undefined ? formatDuration(i.durationMs) : '', formatItems(i.items), i.cacheKey?.slice(0, 12) ?? '', i.artifact?.slice(0, 12) ?? '', ...(remote ? [i.workers?.join(', ') ?? ''] : [])])));
        for (const i of r.instances.filter((i) => i.error)) console.log(`\n${i.id}: ${i.error}`);
        return ExitCode.ok;
      }
      throw new UsageError(`unknown runs sub-command ${JSON.stringify(sub)}\nusage: ${usage()}`);
    } finally {
      await store.close();
    }
  },
};

/** The commit, and whether the working tree was dirty: the commit alone does not reproduce a dirty run. */
function gitLine(r: RunRecord): string {
  if (!r.gitCommit) return '(not a git checkout)';
  if (r.gitDirty === undefined) return r.gitCommit;
  if (!r.gitDirty) return `${r.gitCommit} (clean working tree)`;
  const files = r.gitChanged ?? [];
  return `${r.gitCommit} + uncommitted changes to ${files.length}${files.length === 50 ? "+" : ""} tracked file(s): ${files.slice(0, 5).join(', ')}${files.length > 5 ? ', ...' : ''}`;
}
