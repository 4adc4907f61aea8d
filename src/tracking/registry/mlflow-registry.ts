import type { Store } from '../../store/store.ts';
import { MlflowApiError } from '../mlflow/http.ts';
import type { MlflowClient } from '../mlflow/client.ts';
import type { ModelRegistry, ModelVersion, RegisteredModel, RegisterRequest } from './model.ts';

/** MLflow's model version as the registry REST API returns it. */
interface MlflowModelVersion {
  name: string;
  version: string;
  creation_timestamp: number | string;
  source: string;
  run_id?: string;
  description?: string;
  tags?: Array<{ key: string; value: string }>;
  aliases?: string[];
}

interface MlflowRegisteredModel {
  name: string;
  creation_timestamp: number | string;
  last_updated_timestamp: number | string;
  description?: string;
  latest_versions?: MlflowModelVersion[];
  aliases?: Array<{ alias: string; version: string }>;
}

/**
 * The MLflow Model Registry (REST API 2.0 of MLflow 2.x): registered-models/create|get|search,
 * model-versions/create|search, registered-models/alias. A new version's files are uploaded to the
 * source run's artifacts under `model/` first (through the artifact proxy), and the version's source
 * is that folder, as `mlflow.register_model` does for a logged model.
 */
export class MlflowModelRegistry implements ModelRegistry {
  readonly kind = 'mlflow' as const;

  constructor(private readonly client: MlflowClient, private readonly store: Store) {}

  async registerVersion(req: RegisterRequest): Promise<ModelVersion> {
    const run = await this.client.getRun(req.trackedRunId);
    if (!run) throw new Error(`no MLflow run ${req.trackedRunId} on ${this.client.baseUrl}`);
    for (const f of req.files) await this.client.uploadArtifact(run.info.artifact_uri, `model/${f.path}`, await this.store.getBlob(f.blob));
    try {
      await this.client.call('POST', 'registered-models/create', { name: req.name, description: req.description ?? '' });
    } catch (err) {
      if (!(err instanceof MlflowApiError && err.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw err;
    }
    const res = await this.client.call('POST', 'model-versions/create', {
      name: req.name,
      source: `${run.info.artifact_uri.replace(/\/+$/, '')}/model`,
      run_id: req.trackedRunId,
      tags: Object.entries(req.tags).map(([key, value]) => ({ key, value })),
      ...(req.description ? { description: req.description } : {}),
    });
    return toVersion(res.model_version);
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.client.call('POST', 'registered-models/alias', { name, alias, version });
  }

  async getByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
    try {
      return toVersion((await this.client.call('GET', 'registered-models/alias', { name, alias })).model_version);
    } catch (err) {
      if (err instanceof MlflowApiError && (err.errorCode === 'RESOURCE_DOES_NOT_EXIST' || err.status === 404)) return undefined;
      throw err;
    }
  }

  async listModels(): Promise<RegisteredModel[]> {
    const out: RegisteredModel[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.client.call('POST', 'registered-models/search', { max_results: 1000, ...(pageToken ? { page_token: pageToken } : {}) });
      out.push(...(res.registered_models ?? []).map(toModel));
      pageToken = res.next_page_token || undefined;
    } while (pageToken);
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async getModel(name: string): Promise<RegisteredModel | undefined> {
    try {
      return toModel((await this.client.call('GET', 'registered-models/get', { name })).registered_model);
    } catch (err) {
      if (err instanceof MlflowApiError && (err.errorCode === 'RESOURCE_DOES_NOT_EXIST' || err.status === 404)) return undefined;
      throw err;
    }
  }

  async listVersions(name: string): Promise<ModelVersion[]> {
    const quoted = name.includes("'") ? `"${name}"` : `'${name}'`;
    const res = await this.client.call('POST', 'model-versions/search', { filter: `name=${quoted}`, max_results: 10000 });
    return (res.model_versions ?? []).map(toVersion).sort((a: ModelVersion, b: ModelVersion) => Number(a.version) - Number(b.version));
  }
}

function toVersion(v: MlflowModelVersion): ModelVersion {
  return {
    name: v.name,
    version: String(v.version),
    source: v.source,
    ...(v.run_id ? { runId: v.run_id } : {}),
    created: Number(v.creation_timestamp),
    tags: Object.fromEntries((v.tags ?? []).map((t) => [t.key, t.value])),
    aliases: v.aliases ?? [],
    ...(v.description ? { description: v.description } : {}),
  };
}

function toModel(m: MlflowRegisteredModel): RegisteredModel {
  const latest = (m.latest_versions ?? []).map((v) => Number(v.version)).sort((a, b) => b - a)[0];
  return {
    name: m.name,
    created: Number(m.creation_timestamp),
    updated: Number(m.last_updated_timestamp),
    aliases: Object.fromEntries((m.aliases ?? []).map((a) => [a.alias, String(a.version)])),
    ...(latest !== undefined ? { latestVersion: String(latest) } : {}),
    ...(m.description ? { description: m.description } : {}),
  };
}
