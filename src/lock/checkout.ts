import type { Experiment } from '../experiment/load.ts';
import { loadArtifact, missingBlobs, readRows, type Artifact } from '../engine/artifact.ts';
import { cacheKey, latestId, type CacheEntry, type LatestEntry } from '../engine/cache-key.ts';
import { didYouMean } from '../engine/diagnostics.ts';
import { exportArtifact, instanceDir } from '../export/export-artifact.ts';
import { Collections, type Store } from '../store/store.ts';
import { lockKey, lockPath, partsOf, readLockedSection, type LockedExperiment, type LockedInstance } from './lock-file.ts';

export class CheckoutError extends Error {}

export interface CheckoutResult {
  /** Instances whose locked output is complete in the store (latest output and cache entry restored). */
  restored: string[];
  /** Instances whose output (or some of its blobs) the store lacks. */
  missing: Array<{ id: string; what: string }>;
  exported: Array<{ id: string; dir: string; files: number }>;
  /** The command-line overrides of the run that wrote the lock (its outputs are the ones restored). */
  lockOverrides: string[];
}

/** The lock's section of an experiment, or a CheckoutError saying how to get one. */
export async function lockedSection(experiment: Experiment): Promise<LockedExperiment> {
  const section = await readLockedSection(experiment.file);
  if (!section) throw new CheckoutError(`${lockPath(experiment.file)} has no entry for ${lockKey(experiment.file)}: run pipeline run ${experiment.file} first (a successful run writes it)`);
  return section;
}

/** Lock entries of a stage (all its instances) or one instance id; all entries without `stage`. */
export function selectLocked(section: LockedExperiment, stage: string | undefined): Array<[string, LockedInstance]> {
  const all = Object.entries(section.stages);
  if (!stage) return all;
  const chosen = all.filter(([id]) => id === stage || id.startsWith(`${stage}[`));
  if (!chosen.length) {
    const stages = [...new Set(all.map(([id]) => id.replace(/\[.*$/, '')))];
    const guess = didYouMean(stage, stages);
    throw new CheckoutError(`the lock has no stage ${stage}${guess ? `; did you mean ${guess}?` : ` (stages: ${stages.join(', ')})`}`);
  }
  return chosen;
}

/**
 * Makes the store's view of the experiment match the lock without running anything (like
 * `dvc checkout`): for each locked instance whose output is complete in the store, its latest output
 * and its cache entry (key -> output, checked against the parts the lock records) are restored, so
 * `pipeline export` and `pipeline run` see the locked results. With `dir`, the outputs are also
 * written there as files (one sub-folder per fan-out instance). Instances whose output the store
 * lacks are listed (fetch them with `pipeline pull`).
 */
export async function checkoutLock(experiment: Experiment, store: Store, opts: { stage?: string; dir?: string } = {}): Promise<CheckoutResult> {
  const section = await lockedSection(experiment);
  const result: CheckoutResult = { restored: [], missing: [], exported: [], lockOverrides: section.overrides ?? [] };
  const byId = new Map(experiment.instances.map((i) => [i.id, i]));
  for (const [id, entry] of selectLocked(section, opts.stage)) {
    const artifact = await loadArtifact(store, entry.output.artifact);
    const what = artifact ? await incomplete(store, artifact) : `output ${entry.output.artifact.slice(0, 12)}`;
    if (what) {
      result.missing.push({ id, what });
      continue;
    }
    const inst = byId.get(id);
    if (inst) {
      const parts = partsOf(entry, inst);
      // Only a self-consistent entry becomes a cache entry: its key must be the fingerprint of its parts.
      if (cacheKey(parts) === entry.key) {
        await store.putDoc(Collections.latest, latestId(experiment.name, id), { key: entry.key, parts, artifact: artifact!.digest, time: Date.now() } satisfies LatestEntry);
        if (!(await store.getDoc(Collections.cache, entry.key))) await store.putDoc(Collections.cache, entry.key, { artifact: artifact!.digest, uses: entry.uses, version: entry.version, time: Date.now() } satisfies CacheEntry);
      }
    }
    result.restored.push(id);
    if (opts.dir) {
      const dir = instanceDir(opts.dir, entry.foreach ?? {});
      const { files } = await exportArtifact(store, artifact!, dir);
      result.exported.push({ id, dir, files });
    }
  }
  return result;
}

/** What a complete output needs and the store lacks: manifest blobs and the rows' image/DICOM blobs. */
async function incomplete(store: Store, artifact: Artifact): Promise<string | undefined> {
  const missing = await missingBlobs(store, artifact);
  if (missing.length) return `${missing.length} blob(s) of output ${artifact.digest.slice(0, 12)}`;
  if (!artifact.rows) return undefined;
  let images = 0;
  for (const row of await readRows<Record<string, unknown>>(store, artifact)) {
    for (const field of ['image', 'dicom']) if (typeof row[field] === 'string' && !(await store.hasBlob(row[field] as string))) images++;
  }
  return images ? `${images} image/DICOM blob(s) of output ${artifact.digest.slice(0, 12)}` : undefined;
}
