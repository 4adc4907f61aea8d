import { loadArtifact } from '../../engine/artifact.ts';
import type { RunRecord } from '../../engine/run-record.ts';
import { Collections, type Store } from '../../store/store.ts';
import { instanceKey } from '../event-tracker.ts';
import { Tags } from '../model.ts';
import { aliasProblem, type ModelRegistry, type ModelVersion } from './model.ts';

export interface RegisterRunOptions {
  registry: ModelRegistry;
  store: Store;
  /** The pipeline run whose models are registered (its run record is in the store). */
  runId: string;
  /** Its parent run in the tracker (MLflow run id, or the local run id). */
  trackedRunId: string;
  /** Registered model name. */
  name: string;
  /** Alias moved to the new version (`champion`); none when undefined. */
  alias?: string;
  /** Extra version tags (the promotion metric, ...). */
  tags?: Record<string, string>;
}

/**
 * Registers the models a pipeline run produced (every instance whose artifact is a `model`: one per
 * fold) as one new version of `name`, and moves `alias` to it. A single model's files sit at the
 * version's root; several models each get a folder named after their instance (`train.fold_0/`).
 */
export async function registerRunModels(o: RegisterRunOptions): Promise<{ version: ModelVersion; instances: string[] }> {
  if (o.alias) {
    const problem = aliasProblem(o.alias);
    if (problem) throw new Error(problem);
  }
  const record = await o.store.getDoc<RunRecord>(Collections.runs, o.runId);
  if (!record) throw new Error(`no run record ${o.runId} in ${o.store.location}`);
  const models: Array<{ instance: string; files: Record<string, string>; digest: string }> = [];
  for (const inst of record.instances) {
    if (!inst.artifact || (inst.status !== 'ran' && inst.status !== 'cached')) continue;
    const artifact = await loadArtifact(o.store, inst.artifact);
    if (artifact?.kind === 'model') models.push({ instance: inst.id, files: artifact.files, digest: artifact.digest });
  }
  if (!models.length) throw new Error(`run ${o.runId} produced no model artifact to register`);
  const single = models.length === 1;
  const files = models.flatMap((m) => Object.entries(m.files).map(([path, blob]) => ({ path: single ? path : `${instanceKey(m.instance)}/${path}`, blob })));
  const tags: Record<string, string> = {
    [Tags.pipelineRunId]: o.runId,
    'pipeline.instances': models.map((m) => m.instance).join(', '),
    'pipeline.artifacts': models.map((m) => m.digest.slice(0, 12)).join(', '),
    ...(record.gitCommit ? { [Tags.gitCommit]: record.gitCommit } : {}),
    ...o.tags,
  };
  const version = await o.registry.registerVersion({ name: o.name, trackedRunId: o.trackedRunId, files, tags, description: `${record.experiment}: pipeline run ${o.runId} (${models.length} model${single ? '' : 's'})` });
  if (o.alias) {
    await o.registry.setAlias(o.name, o.alias, version.version);
    version.aliases = [...new Set([...version.aliases, o.alias])];
  }
  return { version, instances: models.map((m) => m.instance) };
}
