/** The MLflow server to use: the config's `uri`, else `MLFLOW_TRACKING_URI`; undefined means local. */
export function mlflowUri(configUri?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const uri = configUri ?? env.MLFLOW_TRACKING_URI;
  if (!uri) return undefined;
  if (!/^https?:\/\//i.test(uri)) {
    throw new Error(`tracking URI ${uri} is not an http(s) MLflow server; set MLFLOW_TRACKING_URI to e.g. http://127.0.0.1:5000, or unset it to track locally`);
  }
  return uri.replace(/\/+$/, '');
}
