import { redactUrlPasswords } from '../util/redact.ts';

/** The MLflow server to use: the config's `uri`, else `MLFLOW_TRACKING_URI`; undefined means local. */
export function mlflowUri(configUri?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const uri = configUri ?? env.MLFLOW_TRACKING_URI;
  if (!uri) return undefined;
  if (!/^https?:\/\//i.test(uri)) {
    throw new Error(`tracking URI ${redactUrlPasswords(uri)} is not an http(s) MLflow server; set MLFLOW_TRACKING_URI to e.g. http://127.0.0.1:5000, or unset it to track locally`);
  }
  return uri.replace(/\/+$/, '');
}

/**
 * `http://user:password@host` split into the URL without its user info (what is logged, stored in
 * tracking buffers and compared) and the credentials, which go into a Basic `Authorization` header:
 * an HTTP client does not send them from the URL (undici ignores them), Python's requests does.
 */
export function splitCredentials(uri: string): { url: string; username?: string; password?: string } {
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    return { url: redactUrlPasswords(uri) };
  }
  if (!parsed.username && !parsed.password) return { url: uri };
  const username = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString().replace(/\/+$/, ''), username, password };
}

/** The URI as it may be shown or stored: without user name and password. */
export function displayUri(uri: string): string {
  return splitCredentials(uri).url;
}
