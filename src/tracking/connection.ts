import type { Store } from '../store/store.ts';
import { LocalTrackReader } from './local/local-tracker.ts';
import type { TrackReader } from './model.ts';
import { MlflowClient } from './mlflow/client.ts';
import { MlflowReader } from './mlflow/reader.ts';
import { LocalModelRegistry } from './registry/local-registry.ts';
import type { ModelRegistry } from './registry/model.ts';
import { MlflowModelRegistry } from './registry/mlflow-registry.ts';
import { mlflowUri, splitCredentials } from './mlflow-uri.ts';

export { mlflowUri };

/** Authentication: MLFLOW_TRACKING_TOKEN (Bearer), else MLFLOW_TRACKING_USERNAME/PASSWORD, else `user:password@` in the URI (Basic). */
export function mlflowClient(uri: string, opts: { timeoutMs?: number; retries?: number; backoffMs?: number } = {}, env: NodeJS.ProcessEnv = process.env): MlflowClient {
  const { url, username, password } = splitCredentials(uri);
  const headers: Record<string, string> = {};
  if (env.MLFLOW_TRACKING_TOKEN) headers.authorization = `Bearer ${env.MLFLOW_TRACKING_TOKEN}`;
  else if (env.MLFLOW_TRACKING_USERNAME) headers.authorization = basic(env.MLFLOW_TRACKING_USERNAME, env.MLFLOW_TRACKING_PASSWORD ?? '');
  else if (username !== undefined) headers.authorization = basic(username, password ?? '');
  return new MlflowClient({ baseUrl: url, timeoutMs: opts.timeoutMs ?? 10_000, retries: opts.retries ?? 3, backoffMs: opts.backoffMs ?? 250, headers });
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
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
