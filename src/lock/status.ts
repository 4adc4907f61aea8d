import { dirname, relative } from 'node:path';
import type { Experiment } from '../experiment/load.ts';
import { loadArtifact, missingBlobs } from '../engine/artifact.ts';
import { cacheKey, diffValues } from '../engine/cache-key.ts';
import { ExternalHasher } from '../engine/file-hash.ts';
import type { Store } from '../store/store.ts';
import { lockPath, partsOf, readLockedSection, type LockedExperiment } from './lock-file.ts';

export type LockState = 'up to date' | 'changed' | 'new' | 'removed' | 'not in store';

export interface InstanceLockStatus {
  id: string;
  state: LockState;
  reasons: string[];
}

export interface LockStatus {
  lockPath: string;
  /** Whether the lock has a section for this experiment file. */
  locked: boolean;
  /** The experiment file's bytes differ from the locked ones (perhaps only comments). */
  fileChanged: boolean;
  lockOverrides: string[];
  overrides: string[];
  instances: InstanceLockStatus[];
}

/**
 * Compares the workspace (the experiment file with its templates, the external files it reads, the
 * stage code and the store) with the lock, like `dvc status`: per instance, what differs from what
 * produced its locked output. An instance downstream of a changed one is changed too (it will rerun,
 * though it may turn out cached if its inputs come out byte-identical). Writes nothing: file hashes are
 * read from the store's memo where current and computed (not memoised) where not, so `store` may be
 * open read-only.
 */
export async function lockStatus(experiment: Experiment, store: Store): Promise<LockStatus> {
  const path = lockPath(experiment.file);
  const section: LockedExperiment | undefined = await readLockedSection(experiment.file);
  const base = { lockPath: path, overrides: experiment.overrides, lockOverrides: section?.overrides ?? [] };
  if (!section) return { ...base, locked: false, fileChanged: true, instances: experiment.instances.map((i) => ({ id: i.id, state: 'new', reasons: ['not in the lock'] })) };
  const hasher = new ExternalHasher(store, { remember: false });
  const changed = new Set<string>();
  const out: InstanceLockStatus[] = [];
  const lockDir = dirname(path);
  for (const inst of experiment.instances) {
    const entry = section.stages[inst.id];
    if (!entry) {
      changed.add(inst.id);
      out.push({ id: inst.id, state: 'new', reasons: ['not in the lock'] });
      continue;
    }
    const reasons: string[] = [];
    if (entry.uses !== inst.uses) reasons.push(`stage type changed ${entry.uses} -> ${inst.uses}`);
    else if (String(entry.version) !== String(inst.type.version)) reasons.push(`stage version changed ${entry.version} -> ${inst.type.version}`);
    if ((entry.code ?? undefined) !== inst.codeHash) reasons.push('stage module source changed');
    reasons.push(...diffValues(entry.params, inst.params, 'with').map((d) => `param ${d}`));
    reasons.push(...diffValues(entry.foreach ?? {}, inst.vars, 'foreach'));
    const lockedFiles = entry.files ?? {};
    for (const e of inst.external) {
      const locked = lockedFiles[`with.${e.param}`];
      const now = await hasher.hash(e.path, e.glob);
      const shown = relative(lockDir, e.path) || '.';
      if (!locked) reasons.push(`with.${e.param} (${shown}) is read now, not in the lock`);
      else if (locked.sha256 !== now) reasons.push(now === 'missing' ? `with.${e.param}: ${shown} does not exist` : `file content of with.${e.param} changed (${shown})`);
    }
    for (const param of Object.keys(lockedFiles)) if (!inst.external.some((e) => `with.${e.param}` === param)) reasons.push(`${param} is no longer read`);
    const lockedInputs = entry.inputs ?? {};
    const nowInputs = inst.inputs.map((i) => i.instance);
    const added = nowInputs.filter((i) => !(i in lockedInputs));
    const removed = Object.keys(lockedInputs).filter((i) => !nowInputs.includes(i));
    if (added.length || removed.length) reasons.push(`inputs changed: ${[...added.map((i) => `+${i}`), ...removed.map((i) => `-${i}`)].join(', ')}`);
    for (const up of nowInputs.filter((i) => i in lockedInputs)) {
      if (changed.has(up)) reasons.push(`upstream ${up} changed`);
      else if (section.stages[up] && section.stages[up].output.artifact !== lockedInputs[up]) reasons.push(`input ${up} changed (its locked output is not the one this output was computed from)`);
    }
    if (!reasons.length && cacheKey(partsOf(entry, inst)) !== entry.key) reasons.push('cache key differs from what the lock records (inputs renamed or reordered)');
    if (reasons.length) {
      changed.add(inst.id);
      out.push({ id: inst.id, state: 'changed', reasons });
      continue;
    }
    const artifact = await loadArtifact(store, entry.output.artifact);
    const missing = artifact ? await missingBlobs(store, artifact) : [];
    if (!artifact || missing.length) out.push({ id: inst.id, state: 'not in store', reasons: [`output ${entry.output.artifact.slice(0, 12)} ${artifact ? `lacks ${missing.length} blob(s)` : 'is not'} in the store at ${store.location}`] });
    else out.push({ id: inst.id, state: 'up to date', reasons: [] });
  }
  for (const id of Object.keys(section.stages)) if (!experiment.instances.some((i) => i.id === id)) out.push({ id, state: 'removed', reasons: ['in the lock, no longer in the experiment'] });
  return { ...base, locked: true, fileChanged: section.file_sha256 !== experiment.fileHash, instances: out };
}
