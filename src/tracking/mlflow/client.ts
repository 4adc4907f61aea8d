import { Limits } from '../keys.ts';
import type { KeyValue, MetricPoint, TrackedStatus } from '../model.ts';
import { MlflowApiError, mlflowFetch, type HttpOptions } from './http.ts';

/** MLflow's wire shapes (REST API 2.0). */
export interface MlflowRunInfo {
  run_id: string;
  run_uuid?: string;
  run_name?: string;
  experiment_id: string;
  status: TrackedStatus;
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage?: string;
}

export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics?: MetricPoint[]; params?: KeyValue[]; tags?: KeyValue[] };
}

export interface MlflowExperiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage?: string;
}

export interface LogBatchRequest {
  metrics: MetricPoint[];
  params: KeyValue[];
  tags: KeyValue[];
}

export interface SearchRunsRequest {
  experiment_ids: string[];
  filter?: string;
  max_results?: number;
  order_by?: string[];
  page_token?: string;
}

/** A small MLflow REST client over undici (no MLflow SDK). */
export class MlflowClient {
  constructor(readonly http: HttpOptions) {}

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  call(method: 'GET' | 'POST' | 'DELETE', endpoint: string, payload: Record<string, unknown>, signal?: AbortSignal): Promise<any> {
    const path = `/api/2.0/mlflow/${endpoint}`;
    if (method === 'GET') return mlflowFetch(this.http, { method, path, query: payload as Record<string, string>, signal });
    return mlflowFetch(this.http, { method, path, json: payload, signal });
  }

  async getExperimentByName(name: string, signal?: AbortSignal): Promise<MlflowExperiment | undefined> {
    try {
      const res = await this.call('GET', 'experiments/get-by-name', { experiment_name: name }, signal);
      return res.experiment;
    } catch (err) {
      if (err instanceof MlflowApiError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw err;
    }
  }

  async createExperiment(name: string, signal?: AbortSignal): Promise<string> {
    const res = await this.call('POST', 'experiments/create', { name }, signal);
    return res.experiment_id;
  }

  /** The id of experiment `name`, created if missing (tolerates a concurrent creator). */
  async ensureExperiment(name: string, signal?: AbortSignal): Promise<string> {
    const found = await this.getExperimentByName(name, signal);
    if (found) return found.experiment_id;
    try {
      return await this.createExperiment(name, signal);
    } catch (err) {
      if (err instanceof MlflowApiError && err.errorCode === 'RESOURCE_ALREADY_EXISTS') {
        const again = await this.getExperimentByName(name, signal);
        if (again) return again.experiment_id;
      }
      throw err;
    }
  }

  async searchExperiments(maxResults = 1000, signal?: AbortSignal): Promise<MlflowExperiment[]> {
    const out: MlflowExperiment[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.call('POST', 'experiments/search', { max_results: Math.min(maxResults, 1000), ...(pageToken ? { page_token: pageToken } : {}) }, signal);
      out.push(...(res.experiments ?? []));
      pageToken = res.next_page_token || undefined;
    } while (pageToken && out.length < maxResults);
    return out;
  }

  async createRun(req: { experimentId: string; startTime: number; runName: string; tags: KeyValue[] }, signal?: AbortSignal): Promise<MlflowRunInfo> {
    const res = await this.call('POST', 'runs/create', { experiment_id: req.experimentId, start_time: req.startTime, run_name: req.runName, tags: req.tags }, signal);
    return res.run.info;
  }

  async updateRun(runId: string, status: TrackedStatus, endTime: number, signal?: AbortSignal): Promise<void> {
    await this.call('POST', 'runs/update', { run_id: runId, status, end_time: endTime }, signal);
  }

  /** Logs any number of metrics, params and tags, in as few requests as MLflow's limits allow. */
  async logBatch(runId: string, batch: LogBatchRequest, signal?: AbortSignal): Promise<number> {
    const requests = planBatches(batch);
    for (const part of requests) await this.call('POST', 'runs/log-batch', { run_id: runId, ...part }, signal);
    return requests.length;
  }

  /**
   * Like `logBatch`, but a request the server rejects (one bad key or value fails the whole request
   * in MLflow) is split in halves until the rejected items are isolated: everything else is logged and
   * the rejected items are returned with the server's reason. Connection problems still throw.
   */
  async logBatchSplitting(runId: string, batch: LogBatchRequest, signal?: AbortSignal): Promise<RejectedItem[]> {
    const rejected: RejectedItem[] = [];
    const send = async (part: LogBatchRequest): Promise<void> => {
      try {
        await this.call('POST', 'runs/log-batch', { run_id: runId, ...part }, signal);
      } catch (err) {
        if (!(err instanceof MlflowApiError) || err.status === 404 || err.status >= 500) throw err;
        const items = itemsOf(part);
        if (items.length === 1) return void rejected.push({ ...items[0], reason: err.message });
        const half = Math.ceil(items.length / 2);
        await send(batchOf(items.slice(0, half)));
        await send(batchOf(items.slice(half)));
      }
    };
    for (const part of planBatches(batch)) await send(part);
    return rejected;
  }

  async setTag(runId: string, key: string, value: string, signal?: AbortSignal): Promise<void> {
    await this.call('POST', 'runs/set-tag', { run_id: runId, key, value }, signal);
  }

  async getRun(runId: string, signal?: AbortSignal): Promise<MlflowRun | undefined> {
    try {
      return (await this.call('GET', 'runs/get', { run_id: runId }, signal)).run;
    } catch (err) {
      if (err instanceof MlflowApiError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw err;
    }
  }

  /** All runs matching (follows `next_page_token` up to `max_results` in total). */
  async searchRuns(req: SearchRunsRequest, signal?: AbortSignal): Promise<MlflowRun[]> {
    const max = req.max_results ?? 1000;
    const out: MlflowRun[] = [];
    let pageToken = req.page_token;
    do {
      const res = await this.call('POST', 'runs/search', { ...req, max_results: Math.min(1000, max - out.length), ...(pageToken ? { page_token: pageToken } : {}) }, signal);
      out.push(...(res.runs ?? []));
      pageToken = res.next_page_token || undefined;
    } while (pageToken && out.length < max);
    return out;
  }

  async getMetricHistory(runId: string, key: string, signal?: AbortSignal): Promise<MetricPoint[]> {
    const out: MetricPoint[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.call('GET', 'metrics/get-history', { run_id: runId, metric_key: key, max_results: 25000, page_token: pageToken }, signal);
      out.push(...(res.metrics ?? []).map((m: MetricPoint) => ({ key: m.key, value: Number(m.value), timestamp: Number(m.timestamp), step: Number(m.step ?? 0) })));
      pageToken = res.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  async uploadArtifact(artifactUri: string, path: string, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
    await mlflowFetch(this.http, { method: 'PUT', path: artifactsPath(artifactUri, path), body: bytes, contentType: contentTypeOf(path), signal });
  }

  /**
   * A file of a run's artifacts, or undefined when there is none. MLflow 2.x answers a missing file
   * with 500 (an unhandled FileNotFoundError and an HTML page naming its local path): a 500 is not
   * retried here; the file is looked up in its folder's listing, and when it is not there it is "not
   * found". The server's page is never passed on.
   */
  async downloadArtifact(artifactUri: string, path: string, signal?: AbortSignal): Promise<Buffer | undefined> {
    try {
      return await mlflowFetch(this.http, { method: 'GET', path: artifactsPath(artifactUri, path), raw: true, signal, retryStatuses: DOWNLOAD_RETRY });
    } catch (err) {
      if (err instanceof MlflowApiError && (err.status === 404 || err.errorCode === 'RESOURCE_DOES_NOT_EXIST')) return undefined;
      if (err instanceof MlflowApiError && err.status === 500) {
        const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
        const listed = await this.listFolder(artifactUri, dir, signal).catch(() => undefined);
        if (listed && !listed.some((f) => !f.is_dir && (dir ? `${dir}/${f.path}` : f.path) === path)) return undefined;
        throw new MlflowApiError(500, 'INTERNAL_ERROR', `the server failed to send artifact ${path}`, err.endpoint);
      }
      throw err;
    }
  }

  private async listFolder(artifactUri: string, rel: string, signal?: AbortSignal): Promise<Array<{ path: string; is_dir?: boolean }>> {
    const root = proxyRoot(artifactUri);
    const res = await mlflowFetch(this.http, { method: 'GET', path: '/api/2.0/mlflow-artifacts/artifacts', query: { path: rel ? `${root}/${rel}` : root }, signal });
    // The proxy lists names relative to the folder asked for.
    return (res.files ?? []).map((f: { path: string; is_dir?: boolean }) => ({ path: f.path.split('/').pop()!, is_dir: f.is_dir }));
  }

  /** Every file under the run's artifact root (recursive), as paths relative to it. */
  async listArtifacts(artifactUri: string, signal?: AbortSignal): Promise<string[]> {
    const root = proxyRoot(artifactUri);
    const out: string[] = [];
    const walk = async (rel: string) => {
      const res = await mlflowFetch(this.http, { method: 'GET', path: '/api/2.0/mlflow-artifacts/artifacts', query: { path: rel ? `${root}/${rel}` : root }, signal });
      for (const f of res.files ?? []) {
        const child = rel ? `${rel}/${f.path}` : f.path;
        if (f.is_dir) await walk(child);
        else out.push(child);
      }
    };
    await walk('');
    return out.sort();
  }
}

/** Statuses an artifact download retries: not 500, which is how MLflow 2.x says "no such file". */
const DOWNLOAD_RETRY: ReadonlySet<number> = new Set([429, 502, 503, 504]);

export interface RejectedItem {
  kind: 'metric' | 'param' | 'tag';
  key: string;
  reason: string;
}

type Item = { kind: 'metric'; key: string; item: MetricPoint } | { kind: 'param' | 'tag'; key: string; item: KeyValue };

function itemsOf(b: LogBatchRequest): Item[] {
  return [...b.params.map((p) => ({ kind: 'param' as const, key: p.key, item: p })), ...b.tags.map((t) => ({ kind: 'tag' as const, key: t.key, item: t })), ...b.metrics.map((m) => ({ kind: 'metric' as const, key: m.key, item: m }))];
}

function batchOf(items: Item[]): LogBatchRequest {
  const out: LogBatchRequest = { metrics: [], params: [], tags: [] };
  for (const i of items) {
    if (i.kind === 'metric') out.metrics.push(i.item);
    else (i.kind === 'param' ? out.params : out.tags).push(i.item);
  }
  return out;
}

const jsonBytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

/**
 * Packs metrics, params and tags into requests within MLflow's per-request limits: 1000 metrics, 100
 * params, 100 tags, 1000 items and (with a margin) 1 MB of JSON. Params and tags go first, so that a
 * run's metadata arrives before its metrics.
 */
export function planBatches(batch: LogBatchRequest): LogBatchRequest[] {
  const out: LogBatchRequest[] = [];
  let cur: LogBatchRequest = { metrics: [], params: [], tags: [] };
  let bytes = 64;
  const flush = () => {
    if (cur.metrics.length || cur.params.length || cur.tags.length) out.push(cur);
    cur = { metrics: [], params: [], tags: [] };
    bytes = 64;
  };
  const add = (kind: 'metrics' | 'params' | 'tags', item: MetricPoint | KeyValue) => {
    const size = jsonBytes(item) + 1;
    const max = kind === 'metrics' ? Limits.metricsPerBatch : kind === 'params' ? Limits.paramsPerBatch : Limits.tagsPerBatch;
    const total = cur.metrics.length + cur.params.length + cur.tags.length;
    if ((cur[kind] as unknown[]).length >= max || total >= Limits.itemsPerBatch || bytes + size > Limits.requestBytes) flush();
    (cur[kind] as Array<MetricPoint | KeyValue>).push(item);
    bytes += size;
  };
  // Params and tags fill requests side by side (100 + 100), metrics fill the room left.
  const n = Math.max(Math.ceil(batch.params.length / Limits.paramsPerBatch), Math.ceil(batch.tags.length / Limits.tagsPerBatch));
  let m = 0;
  for (let i = 0; i < n; i++) {
    for (const p of batch.params.slice(i * Limits.paramsPerBatch, (i + 1) * Limits.paramsPerBatch)) add('params', p);
    for (const t of batch.tags.slice(i * Limits.tagsPerBatch, (i + 1) * Limits.tagsPerBatch)) add('tags', t);
    while (m < batch.metrics.length && cur.metrics.length + cur.params.length + cur.tags.length < Limits.itemsPerBatch && bytes + jsonBytes(batch.metrics[m]) + 1 <= Limits.requestBytes) add('metrics', batch.metrics[m++]);
    flush();
  }
  for (; m < batch.metrics.length; m++) add('metrics', batch.metrics[m]);
  flush();
  return out;
}

/**
 * `mlflow-artifacts:/1/<run>/artifacts` (or `mlflow-artifacts://host/1/...`) -> `1/<run>/artifacts`.
 * Other schemes mean the server does not proxy artifacts; we cannot upload there without their SDKs.
 */
export function proxyRoot(artifactUri: string): string {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/.exec(artifactUri);
  if (!m) throw new Error(`run artifact location ${artifactUri} is not served by the MLflow artifact proxy; start the server with --serve-artifacts (the default since MLflow 2.0) to upload reports`);
  return m[1].replace(/\/+$/, '');
}

function artifactsPath(artifactUri: string, path: string): string {
  const parts = `${proxyRoot(artifactUri)}/${path}`.split('/').filter(Boolean);
  return '/api/2.0/mlflow-artifacts/artifacts/' + parts.map(encodeURIComponent).join('/');
}

export function contentTypeOf(path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  return (
    { html: 'text/html; charset=utf-8', json: 'application/json', svg: 'image/svg+xml', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', csv: 'text/csv', txt: 'text/plain' } as Record<string, string>
  )[ext] ?? 'application/octet-stream';
}
