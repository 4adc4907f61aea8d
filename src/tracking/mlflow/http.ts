import { request } from 'undici';

/** The server answered with MLflow's error JSON (`error_code`, `message`): the request itself is wrong. */
export class MlflowApiError extends Error {
  constructor(readonly status: number, readonly errorCode: string, message: string, readonly endpoint: string) {
    super(`MLflow ${endpoint}: ${errorCode}: ${message}`);
    this.name = 'MlflowApiError';
  }
}

/** The server could not be reached, timed out, or kept answering 5xx/429 after all retries. */
export class MlflowUnavailableError extends Error {
  constructor(message: string, readonly endpoint: string) {
    super(`MLflow ${endpoint}: ${message}`);
    this.name = 'MlflowUnavailableError';
  }
}

/**
 * The server refused the request's credentials (401) or their permissions (403). Like an unavailable
 * server, nothing can be sent until that is fixed, so operations are buffered and replayed later.
 */
export class MlflowAuthError extends MlflowUnavailableError {
  constructor(status: number, sent: string, endpoint: string) {
    super(
      status === 401
        ? `HTTP 401: the server asks for credentials and ${sent === 'none' ? 'none were sent' : `refused the ${sent} sent`}; set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, MLFLOW_TRACKING_TOKEN, or user:password@ in the tracking URI`
        : `HTTP 403: permission denied for the ${sent === 'none' ? 'anonymous user' : `${sent} sent`} (the MLflow user needs rights on the experiment)`,
      endpoint,
    );
    this.name = 'MlflowAuthError';
  }
}

export interface HttpOptions {
  /** Server root, e.g. `http://127.0.0.1:5000`. */
  baseUrl: string;
  timeoutMs: number;
  retries: number;
  /** First backoff delay; doubles on each retry (with jitter), capped at 5 s. */
  backoffMs: number;
  /** Extra headers (e.g. `Authorization` from MLFLOW_TRACKING_TOKEN). */
  headers?: Record<string, string>;
}

export interface HttpCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path under the base URL, starting with `/api/`. */
  path: string;
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  body?: Uint8Array;
  contentType?: string;
  signal?: AbortSignal;
  /** Raw bytes wanted (artifact download). */
  raw?: boolean;
  /** HTTP statuses retried with backoff (default 429, 500, 502, 503, 504). */
  retryStatuses?: ReadonlySet<number>;
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

/** One HTTP exchange with retries and bounded time; returns parsed JSON (or bytes for `raw`). */
export async function mlflowFetch(opts: HttpOptions, call: HttpCall): Promise<any> {
  const url = new URL(opts.baseUrl.replace(/\/+$/, '') + call.path);
  for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const endpoint = `${call.method} ${call.path.replace(/^\/api\/2\.0\//, '')}`.slice(0, 120);
  const body = call.json !== undefined ? JSON.stringify(call.json) : call.body;
  const headers: Record<string, string> = { ...opts.headers };
  if (call.json !== undefined) headers['content-type'] = 'application/json';
  else if (call.body) headers['content-type'] = call.contentType ?? 'application/octet-stream';
  let lastProblem = '';
  for (let attempt = 0; attempt <= opts.retries; attempt++) {
    if (attempt > 0) await sleep(backoff(opts.backoffMs, attempt), call.signal);
    if (call.signal?.aborted) throw new MlflowUnavailableError('aborted', endpoint);
    const signals = [AbortSignal.timeout(opts.timeoutMs), ...(call.signal ? [call.signal] : [])];
    let status: number;
    let text: Buffer;
    try {
      const res = await request(url, { method: call.method, headers, body, signal: AbortSignal.any(signals) });
      status = res.statusCode;
      text = Buffer.from(await res.body.arrayBuffer());
    } catch (err: any) {
      lastProblem = err?.name === 'TimeoutError' || err?.name === 'AbortError' ? `no answer within ${opts.timeoutMs} ms` : `${err?.code ?? err?.name ?? 'error'}: ${err?.message ?? err}`;
      if (call.signal?.aborted) break;
      continue;
    }
    if (status < 300) {
      if (call.raw) return text;
      return text.length ? JSON.parse(text.toString('utf8')) : {};
    }
    if ((call.retryStatuses ?? RETRYABLE_STATUS).has(status)) {
      lastProblem = `HTTP ${status} ${errorSummary(text)}`;
      continue;
    }
    if (status === 401 || status === 403) throw new MlflowAuthError(status, sentCredentials(headers), endpoint);
    const parsed = parseError(text);
    // A non-JSON answer is a proxy's or the web framework's error page: never passed on (it can name
    // the server's own paths), only its size.
    throw new MlflowApiError(status, parsed.code ?? `HTTP_${status}`, parsed.message !== undefined ? redactServerPaths(parsed.message) : `no MLflow error in the answer (${text.length} bytes, not JSON)`, endpoint);
  }
  throw new MlflowUnavailableError(`${lastProblem} (after ${opts.retries + 1} attempts)`, endpoint);
}

/** Absolute file-system paths in a server message (`/srv/mlflow/...`, `C:\\...`) become `<server path>`. */
export function redactServerPaths(message: string): string {
  return message.replace(/(^|[\s'"(=:])(?:\/[^\s'"()]+){2,}|(^|[\s'"(=:])[A-Za-z]:\\[^\s'"()]+/g, (_m, a, b) => `${a ?? b ?? ''}<server path>`);
}

function sentCredentials(headers: Record<string, string>): string {
  const auth = Object.entries(headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
  if (!auth) return 'none';
  return /^bearer /i.test(auth) ? 'Bearer token' : /^basic /i.test(auth) ? 'Basic credentials' : 'Authorization header';
}

function parseError(text: Buffer): { code?: string; message?: string } {
  try {
    const json = JSON.parse(text.toString('utf8'));
    return { code: typeof json.error_code === 'string' ? json.error_code : undefined, message: typeof json.message === 'string' ? json.message : undefined };
  } catch {
    return {};
  }
}

function errorSummary(text: Buffer): string {
  const parsed = parseError(text);
  return parsed.code ? redactServerPaths(`${parsed.code}: ${parsed.message ?? ''}`).slice(0, 200) : '';
}

function backoff(base: number, attempt: number): number {
  const exp = Math.min(5000, base * 2 ** (attempt - 1));
  return exp / 2 + Math.random() * (exp / 2);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

export function isTransient(err: unknown): boolean {
  return err instanceof MlflowUnavailableError;
}
