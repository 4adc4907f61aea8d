import type { Experiment } from '../experiment/load.ts';
import { latestId, type LatestEntry } from '../engine/cache-key.ts';
import { readLockedSection } from '../lock/lock-file.ts';
import { selectLocked } from '../lock/checkout.ts';
import { Collections, type Store } from '../store/store.ts';

export interface OutputRef {
  key: string;
  /** `train[fold=2]`, or `<experiment>/<instance>` for every experiment's outputs. */
  instance: string;
}

/**
 * The stage outputs an experiment's push or pull is about: what its pipeline.lock records (what the
 * results in git were produced by), else, for a push, the latest outputs of its instances in the
 * store. `stage` keeps one stage's instances.
 */
export async function experimentOutputs(experiment: Experiment, store: Store, stage?: string): Promise<{ refs: OutputRef[]; from: 'lock' | 'latest' }> {
  const section = await readLockedSection(experiment.file);
  if (section) return { refs: selectLocked(section, stage).map(([instance, entry]) => ({ key: entry.key, instance })), from: 'lock' };
  const refs: OutputRef[] = [];
  for (const inst of experiment.instances) {
    if (stage && inst.stage !== stage && inst.id !== stage) continue;
    const latest = await store.getDoc<LatestEntry>(Collections.latest, latestId(experiment.latestScope, inst.id));
    if (latest) refs.push({ key: latest.key, instance: inst.id });
  }
  return { refs, from: 'latest' };
}

/** The latest output of every instance of every experiment in the store (what gc keeps). */
export async function allLatestOutputs(store: Store): Promise<OutputRef[]> {
  const refs: OutputRef[] = [];
  for await (const id of store.listDocIds(Collections.latest)) {
    const latest = await store.getDoc<LatestEntry>(Collections.latest, id);
    if (latest) refs.push({ key: latest.key, instance: id });
  }
  return refs.sort((a, b) => a.instance.localeCompare(b.instance));
}
