import type { Store } from '../store/store.ts';
import { LocalTrackReader } from './local/local-tracker.ts';
import type { TrackReader } from './model.ts';
import { MlflowClient } from './mlflow/client.ts';
import { MlflowReader } from './mlflow/reader.ts';
import { LocalModelRegistry } from './registry/local-registry.ts';
import type { ModelRegistry } from './registry/model.ts';
import { MlflowModelRegistry } from './registry/mlflow-registry.ts';
import { mlflowUri } from './mlflow-uri.ts';

export { mlflowUri };


export function mlflowClient(uri: string, opts: { timeoutMs?: number; retries?: number; backoffMs?: number } = {}, env: NodeJS.ProcessEnv = process.env): MlflowClient {
  const headers: Record<string, string> = {};
  if (env.MLFLOW_TRACKING_TOKEN) headers.authorization = `Bearer ${env.MLFLOW_TRACKING_TOKEN}`;
  else if (env.MLFLOW_TRACKING_USERNAME) headers.authorization = `Basic ${Buffer.from(`${env.MLFLOW_TRACKING_USERNAME}:${env.MLFLOW_TRACKING_PASSWORD ?? ''}`).toString('base64')}`;
  return new MlflowClient({ baseUrl: uri, timeoutMs: opts.timeoutMs ?? 10_000, retries: opts.retries ?? 3, backoffMs: opts.backoffMs ?? 250, headers });
}

/** A reader over the tracker that `pipeline run` would write to (MLflow when configured, else the store). */
export function openReader(opts: { store: Store; uri?: string; env?: NodeJS.ProcessEnv }): TrackReader {
  const uri = mlflowUri(opts.uri, opts.env);
  return uri ? new MlflowReader(mlflowClient(uri, {}, opts.env)) : new LocalTrackReader(opts.store);
}

/** The model registry of the same tracker: MLflow's Model Registry when configured, else the store's. */
export function openRegistry(opts: { store: Store; uri?: string; env?: NodeJS.ProcessEnv }): ModelRegistry {
  const uri = mlflowUri(opts.uri, opts.env);
  return uri ? new MlflowModelRegistry(mlflowClient(uri, {}, opts.env), opts.store) : new LocalModelRegistry(opts.store);
}
