import type { Experiment } from '../experiment/load.ts';
import type { RunResult } from '../engine/runner-api.ts';
import { loadArtifact } from '../engine/artifact.ts';
import type { Store } from '../store/store.ts';
import { lockedInstance, lockPath, updateLock, type LockedInstance } from './lock-file.ts';
import { dirname } from 'node:path';

/**
 * Records a successful run in the lock next to the experiment: per instance that ran or was reused,
 * its key, what the key was computed from and its output. A run that did not succeed changes nothing.
 */
export async function lockRun(experiment: Experiment, result: RunResult, store: Store): Promise<{ path: string; changed: boolean; instances: number } | undefined> {
  if (result.status !== 'succeeded') return undefined;
  const byId = new Map(experiment.instances.map((i) => [i.id, i]));
  const dir = dirname(lockPath(experiment.file));
  const entries: Record<string, LockedInstance> = {};
  for (const r of result.instances) {
    const inst = byId.get(r.id);
    if (!inst || !r.parts || !r.key || !r.artifact || (r.status !== 'ran' && r.status !== 'cached')) continue;
    const artifact = await loadArtifact(store, r.artifact);
    entries[r.id] = lockedInstance(inst, r.parts, r.key, { artifact: r.artifact, kind: artifact?.kind ?? 'files' }, dir);
  }
  const written = await updateLock(experiment, entries);
  return { ...written, instances: Object.keys(entries).length };
}
