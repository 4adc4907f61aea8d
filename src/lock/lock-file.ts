import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { z } from 'zod';
import { DiagnosticError } from '../engine/diagnostics.ts';
import { yamlSource } from '../experiment/yaml-source.ts';
import { zodDiagnostics } from '../experiment/zod-diagnostics.ts';
import type { Experiment, StageInstance } from '../experiment/load.ts';
import type { KeyParts } from '../engine/cache-key.ts';
import { canonicalJson, fingerprint } from '../util/hash.ts';

export const LOCK_NAME = 'pipeline.lock';
const HEX = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 digest (64 hex digits)');

/** One stage instance as the lock records it: everything its cache key was computed from, and its output. */
export const lockedInstanceSchema = z
  .object({
    uses: z.string(),
    version: z.union([z.number(), z.string()]),
    code: HEX.optional(),
    key: HEX,
    params_sha256: HEX,
    params: z.unknown(),
    foreach: z.record(z.string(), z.unknown()).optional(),
    inputs: z.record(z.string(), HEX).optional(),
    files: z.record(z.string(), z.object({ path: z.string(), sha256: z.string() }).strict()).optional(),
    output: z.object({ artifact: HEX, kind: z.string() }).strict(),
  })
  .strict();

export const lockedExperimentSchema = z
  .object({
    name: z.string(),
    file_sha256: HEX,
    overrides: z.array(z.string()).optional(),
    stages: z.record(z.string(), lockedInstanceSchema),
  })
  .strict();

export const lockFileSchema = z.object({ version: z.literal(1), experiments: z.record(z.string(), lockedExperimentSchema) }).strict();

export type LockedInstance = z.output<typeof lockedInstanceSchema>;
export type LockedExperiment = z.output<typeof lockedExperimentSchema>;
export type LockFile = z.output<typeof lockFileSchema>;

export function lockPath(experimentFile: string): string {
  return join(dirname(resolve(experimentFile)), LOCK_NAME);
}

/** The key under which an experiment is locked: its file name (the lock sits in the same folder). */
export function lockKey(experimentFile: string): string {
  return basename(experimentFile);
}

/** The lock's section of an experiment file (what its last successful run locked); undefined when none. */
export async function readLockedSection(experimentFile: string): Promise<LockedExperiment | undefined> {
  return (await readLock(lockPath(experimentFile)))?.experiments[lockKey(experimentFile)];
}

/** Reads and validates a lock file; undefined when there is none. Errors are located in it. */
export async function readLock(path: string): Promise<LockFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err: any) {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  }
  const source = await yamlSource(text, path);
  const checked = lockFileSchema.safeParse(source.value, { jitless: true });
  if (!checked.success) {
    throw new DiagnosticError(zodDiagnostics(checked.error, { prefix: [], schema: lockFileSchema, input: source.value, at: (p, w) => source.locate(p, w), what: `${LOCK_NAME}` }).map((d) => ({ ...d, hint: d.hint ?? `${LOCK_NAME} is written by pipeline run; delete it and rerun to write it again` })));
  }
  return checked.data;
}

/** The lock entry of an instance from the parts its key was computed from and its output. */
export function lockedInstance(inst: StageInstance, parts: KeyParts, key: string, output: { artifact: string; kind: string }, lockDir: string): LockedInstance {
  const files: Record<string, { path: string; sha256: string }> = {};
  for (const e of inst.external) {
    const digest = parts.external[e.param];
    if (digest !== undefined) files[`with.${e.param}`] = { path: relative(lockDir, e.path) || '.', sha256: digest };
  }
  return {
    uses: parts.uses,
    version: parts.version,
    ...(parts.code ? { code: parts.code } : {}),
    key,
    params_sha256: fingerprint(parts.params),
    params: parts.params,
    ...(Object.keys(parts.vars).length ? { foreach: parts.vars } : {}),
    ...(inst.inputs.length ? { inputs: Object.fromEntries(inst.inputs.map((input, n) => [input.instance, parts.inputs[n].artifact])) } : {}),
    ...(Object.keys(files).length ? { files } : {}),
    output,
  };
}

/**
 * The key parts an entry records, with inputs in the order and under the names the experiment gives
 * them now (the lock keeps inputs by upstream instance). Undefined inputs: not recorded in the lock.
 */
export function partsOf(entry: LockedInstance, inst: Pick<StageInstance, 'inputs' | 'external'>): KeyParts {
  const external: Record<string, string> = {};
  for (const [param, f] of Object.entries(entry.files ?? {})) external[param.replace(/^with\./, '')] = f.sha256;
  return {
    uses: entry.uses,
    version: entry.version,
    params: entry.params,
    vars: entry.foreach ?? {},
    inputs: inst.inputs.map((input) => ({ name: input.name, artifact: entry.inputs?.[input.instance] ?? '' })),
    external,
    ...(entry.code ? { code: entry.code } : {}),
  };
}

/** Natural order of instance ids (`train[fold=2]` before `train[fold=10]`), the same on every machine. */
export function compareIds(a: string, b: string): number {
  const split = (s: string) => s.split(/(\d+)/).map((p, i) => (i % 2 ? Number(p) : p));
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] === y[i]) continue;
    if (typeof x[i] === 'number' && typeof y[i] === 'number') return (x[i] as number) - (y[i] as number);
    return String(x[i]) < String(y[i]) ? -1 : 1;
  }
  return x.length - y.length;
}

/** Sorted keys at every depth (instances in natural order): the same lock always has the same bytes. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort(compareIds)) if ((value as any)[k] !== undefined) out[k] = sorted((value as any)[k]);
    return out;
  }
  return value;
}

const HEADER = `# pipeline.lock: what produced the stage outputs of the experiments in this folder (like dvc.lock).
# Written by \`pipeline run\` after a successful run; read by \`pipeline status\`, \`checkout\`, \`push\` and
# \`pull\`. Commit it with the experiment. Do not edit it by hand.
`;

export function formatLock(lock: LockFile): string {
  return HEADER + stringify({ version: lock.version, experiments: sorted(lock.experiments) }, { lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false });
}

/**
 * Updates the experiment's section of the lock next to it: entries of `entries` replace theirs,
 * instances no longer in the experiment are dropped, the others are kept (a run with --only). Written
 * to a temp file and renamed; concurrent writers of the same lock take turns (`pipeline.lock.writing`).
 * Returns whether the file's bytes changed.
 */
export async function updateLock(experiment: Experiment, entries: Record<string, LockedInstance>): Promise<{ path: string; changed: boolean }> {
  const path = lockPath(experiment.file);
  return withLockFileMutex(path, async () => {
    const before = await readFile(path, 'utf8').catch(() => undefined);
    const previousLock = before !== undefined ? await readLock(path) : undefined;
    const lock: LockFile = previousLock ? structuredClone(previousLock) : { version: 1, experiments: {} };
    const key = lockKey(experiment.file);
    const live = new Set(experiment.instances.map((i) => i.id));
    const previous = lock.experiments[key]?.stages ?? {};
    const stages: Record<string, LockedInstance> = {};
    for (const [id, entry] of Object.entries({ ...previous, ...entries })) if (live.has(id)) stages[id] = entry;
    lock.experiments[key] = { name: experiment.name, file_sha256: experiment.fileHash, ...(experiment.overrides.length ? { overrides: experiment.overrides } : {}), stages };
    // A rerun that changes nothing (the usual case) neither formats nor writes the file.
    if (previousLock && canonicalJson(previousLock) === canonicalJson(lock)) return { path, changed: false };
    const text = formatLock(lock);
    if (text === before) return { path, changed: false };
    const tmp = `${path}.${process.pid}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    return { path, changed: true };
  });
}

const MUTEX_STALE_MS = 60_000;

/** Runs `fn` holding `<path>.writing` (exclusive create); a holder that died over a minute ago is taken over. */
async function withLockFileMutex<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const mutex = `${path}.writing`;
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(mutex, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err: any) {
      if (err.code !== 'EEXIST') throw err;
      const age = Date.now() - ((await stat(mutex).catch(() => undefined))?.mtimeMs ?? Date.now());
      if (age > MUTEX_STALE_MS) await rm(mutex, { force: true });
      else if (attempt > 400) throw new Error(`${mutex} has been held for ${Math.round(age / 1000)} s by another pipeline run; remove it if no run is writing the lock`);
      else await sleep(25);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(mutex, { force: true });
  }
}
