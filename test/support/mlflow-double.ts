import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

/**
 * A local protocol double of the MLflow tracking server (REST API 2.0 and the mlflow-artifacts proxy),
 * implementing exactly the endpoints the client uses, with MLflow's validation rules and error JSON:
 * per-request limits of runs/log-batch, key names and lengths, immutable params, unknown ids
 * (RESOURCE_DOES_NOT_EXIST, 404), duplicate experiments (RESOURCE_ALREADY_EXISTS). It can simulate an
 * outage (connections reset or refused) and 5xx answers. Every request body is kept for assertions.
 */

interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

interface Run {
  info: { run_id: string; run_uuid: string; run_name: string; experiment_id: string; status: string; start_time: number; end_time?: number; artifact_uri: string; lifecycle_stage: string };
  params: Map<string, string>;
  tags: Map<string, string>;
  metrics: Metric[];
}

export interface ReceivedRequest {
  method: string;
  path: string;
  body: string;
}

class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const KEY_RE = /^[/\w.\- ]*$/;
const STATUSES = new Set(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']);

export interface MlflowDoubleOptions {
  /** MLflow < 2.8 allowed 500 characters per param value; the client must stay within that. */
  maxParamValueLength?: number;
  maxTagValueLength?: number;
}

export class MlflowDouble {
  readonly experiments = new Map<string, { experiment_id: string; name: string; artifact_location: string; lifecycle_stage: string }>();
  readonly runs = new Map<string, Run>();
  readonly artifacts = new Map<string, Buffer>();
  readonly received: ReceivedRequest[] = [];
  /** `reset`: connections are destroyed (server crashed); `error`: answers `errorStatus` to everything. */
  mode: 'up' | 'reset' | 'error' = 'up';
  errorStatus = 503;
  /** The next N requests get `errorStatus`, then the server recovers. */
  failNext = 0;
  /** Delay before answering (a slow server). */
  delayMs = 0;
  private server?: Server;
  private port = 0;
  private nextExperiment = 1;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(private readonly options: MlflowDoubleOptions = {}) {
    this.experiments.set('0', { experiment_id: '0', name: 'Default', artifact_location: 'mlflow-artifacts:/0', lifecycle_stage: 'active' });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => void this.serve(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(port || this.port, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Stops listening (clients get ECONNREFUSED); `start()` again resumes on the same port with the same data. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Number of requests to an endpoint (e.g. `runs/log-batch`). */
  count(endpoint: string): number {
    return this.received.filter((r) => r.path.split('?')[0].endsWith(endpoint)).length;
  }

  /** Everything the server received, as one string (for "no PHI" assertions). */
  allReceivedText(): string {
    return this.received.map((r) => `${r.method} ${decodeURIComponent(r.path)}\n${r.body}`).join('\n');
  }

  runByName(name: string): Run | undefined {
    return [...this.runs.values()].find((r) => r.info.run_name === name);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.mode === 'reset') {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    this.received.push({ method: req.method ?? 'GET', path: url.pathname + url.search, body: raw.toString('utf8') });
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.mode === 'error' || this.failNext > 0) {
      if (this.failNext > 0) this.failNext--;
      return send(res, this.errorStatus, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'simulated outage' });
    }
    try {
      const out = this.route(req.method ?? 'GET', url, raw);
      if (Buffer.isBuffer(out)) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(out);
      } else send(res, 200, out);
    } catch (err) {
      if (err instanceof ApiError) send(res, err.status, { error_code: err.code, message: err.message });
      else send(res, 500, { error_code: 'INTERNAL_ERROR', message: String(err) });
    }
  }

  private route(method: string, url: URL, raw: Buffer): unknown {
    const path = url.pathname;
    const artifactPrefix = '/api/2.0/mlflow-artifacts/artifacts';
    if (path.startsWith(artifactPrefix)) {
      const rel = decodeURIComponent(path.slice(artifactPrefix.length).replace(/^\//, ''));
      if (method === 'PUT' && rel) {
        this.artifacts.set(rel, raw);
        return {};
      }
      if (method === 'GET' && rel) {
        const bytes = this.artifacts.get(rel);
        if (!bytes) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `File not found: ${rel}`);
        return bytes;
      }
      if (method === 'GET') return this.listArtifacts(url.searchParams.get('path') ?? '');
    }
    const m = /^\/api\/2\.0\/mlflow\/(.+)$/.exec(path);
    if (!m) throw new ApiError(404, 'ENDPOINT_NOT_FOUND', `No API endpoint at ${path}`);
    const endpoint = `${method} ${m[1]}`;
    const body = method === 'POST' ? parseJson(raw) : Object.fromEntries(url.searchParams);
    switch (endpoint) {
      case 'GET experiments/get-by-name':
        return { experiment: this.experimentByName(required(body, 'experiment_name')) };
      case 'POST experiments/create':
        return this.createExperiment(body);
      case 'POST experiments/search':
        return { experiments: [...this.experiments.values()] };
      case 'POST runs/create':
        return this.createRun(body);
      case 'POST runs/update':
        return this.updateRun(body);
      case 'POST runs/log-batch':
        return this.logBatch(body);
      // Single-item endpoints (what mlflow.log_metric / log_param call); used by bench/tracking.ts.
      case 'POST runs/log-metric':
        return this.logBatch({ run_id: body.run_id, metrics: [{ key: body.key, value: body.value, timestamp: body.timestamp, step: body.step }] });
      case 'POST runs/log-parameter':
        return this.logBatch({ run_id: body.run_id, params: [{ key: body.key, value: body.value }] });
      case 'POST runs/set-tag': {
        const run = this.run(required(body, 'run_id'));
        this.validateTag({ key: required(body, 'key'), value: String(body.value ?? '') });
        run.tags.set(body.key, String(body.value ?? ''));
        return {};
      }
      case 'GET runs/get':
        return { run: this.runJson(this.run(required(body, 'run_id'))) };
      case 'POST runs/search':
        return this.searchRuns(body);
      case 'GET metrics/get-history': {
        const run = this.run(required(body, 'run_id'));
        const key = required(body, 'metric_key');
        return { metrics: run.metrics.filter((x) => x.key === key) };
      }
      default:
        throw new ApiError(404, 'ENDPOINT_NOT_FOUND', `No API endpoint for ${endpoint}`);
    }
  }

  private experimentByName(name: string) {
    const exp = [...this.experiments.values()].find((e) => e.name === name);
    if (!exp) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${name}'`);
    return exp;
  }

  private createExperiment(body: any) {
    const name = required(body, 'name');
    if ([...this.experiments.values()].some((e) => e.name === name)) throw new ApiError(400, 'RESOURCE_ALREADY_EXISTS', `Experiment '${name}' already exists.`);
    const id = String(this.nextExperiment++);
    this.experiments.set(id, { experiment_id: id, name, artifact_location: `mlflow-artifacts:/${id}`, lifecycle_stage: 'active' });
    return { experiment_id: id };
  }

  private createRun(body: any) {
    const experimentId = required(body, 'experiment_id');
    if (!this.experiments.has(experimentId)) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${experimentId} exists`);
    // The real server defaults start_time to "now"; our client must always send it, so the double insists.
    if (typeof body.start_time !== 'number') throw new ApiError(400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'start_time'.");
    const tags: Array<{ key: string; value: string }> = body.tags ?? [];
    tags.forEach((t) => this.validateTag(t));
    const id = randomBytes(16).toString('hex');
    const runName = body.run_name ?? tags.find((t) => t.key === 'mlflow.runName')?.value ?? `run-${id.slice(0, 6)}`;
    const run: Run = {
      info: { run_id: id, run_uuid: id, run_name: runName, experiment_id: experimentId, status: 'RUNNING', start_time: body.start_time, artifact_uri: `mlflow-artifacts:/${experimentId}/${id}/artifacts`, lifecycle_stage: 'active' },
      params: new Map(),
      tags: new Map(tags.map((t) => [t.key, t.value])),
      metrics: [],
    };
    run.tags.set('mlflow.runName', runName);
    this.runs.set(id, run);
    return { run: this.runJson(run) };
  }

  private updateRun(body: any) {
    const run = this.run(required(body, 'run_id'));
    if (body.status !== undefined && !STATUSES.has(body.status)) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid value ${body.status} for parameter 'status'`);
    if (body.status) run.info.status = body.status;
    if (body.end_time !== undefined) run.info.end_time = Number(body.end_time);
    return { run_info: run.info };
  }

  private logBatch(body: any) {
    const run = this.run(required(body, 'run_id'));
    const metrics: any[] = body.metrics ?? [];
    const params: any[] = body.params ?? [];
    const tags: any[] = body.tags ?? [];
    const limit = (n: number, max: number, what: string) => {
      if (n > max) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `A batch logging request can contain at most ${max} ${what}. Got ${n} ${what}. Please split up ${what} across multiple requests and try again.`);
    };
    limit(metrics.length, 1000, 'metrics');
    limit(params.length, 100, 'params');
    limit(tags.length, 100, 'tags');
    const total = metrics.length + params.length + tags.length;
    if (total > 1000) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `A batch logging request can contain at most 1000 metrics, params, and tags in total. Got ${total} items. Please split up across multiple requests and try again.`);
    for (const m of metrics) {
      this.validateKey(m.key, 'metric');
      if (typeof m.value !== 'number') throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Got invalid value ${m.value} for metric '${m.key}' (timestamp=${m.timestamp}). Please specify value as a valid double (64-bit floating point)`);
      if (!Number.isInteger(m.timestamp)) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Got invalid timestamp ${m.timestamp} for metric '${m.key}' (value=${m.value}). Timestamp must be a nonnegative long (64-bit integer) `);
      if (m.step !== undefined && !Number.isInteger(m.step)) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Got invalid step ${m.step} for metric '${m.key}' (value=${m.value}). Step must be a valid long (64-bit integer).`);
    }
    const seen = new Map<string, string>();
    for (const p of params) {
      this.validateKey(p.key, 'param');
      const value = String(p.value);
      const max = this.options.maxParamValueLength ?? 500;
      if (value.length > max) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Param value '${value.slice(0, 40)}...' had length ${value.length}, which exceeded length limit of ${max}`);
      if (seen.has(p.key) && seen.get(p.key) !== value) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Duplicate parameter keys have been submitted: ['${p.key}']. Please ensure the request contains only one param value per param key.`);
      seen.set(p.key, value);
    }
    const changed = params.filter((p) => run.params.has(p.key) && run.params.get(p.key) !== String(p.value));
    if (changed.length) {
      const desc = changed.map((p) => `{'key': '${p.key}', 'old_value': '${run.params.get(p.key)}', 'new_value': '${p.value}'}`).join(', ');
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Changing param values is not allowed. Params were already logged='[${desc}]' for run ID='${run.info.run_id}'.`);
    }
    tags.forEach((t) => this.validateTag(t));
    for (const p of params) run.params.set(p.key, String(p.value));
    for (const t of tags) run.tags.set(t.key, String(t.value));
    for (const m of metrics) run.metrics.push({ key: m.key, value: m.value, timestamp: m.timestamp, step: m.step ?? 0 });
    return {};
  }

  private searchRuns(body: any) {
    const ids: string[] = body.experiment_ids ?? [];
    const max = body.max_results ?? 1000;
    if (max > 50000) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid value ${max} for parameter 'max_results' supplied. It must be at most 50000`);
    const conditions = parseFilter(body.filter ?? '');
    let runs = [...this.runs.values()].filter((r) => ids.includes(r.info.experiment_id) && conditions.every((c) => (c.kind === 'tags' ? r.tags : r.params).get(c.key) === c.value));
    const desc = !(body.order_by ?? []).some((o: string) => /start_time\s+ASC/i.test(o));
    runs.sort((a, b) => (desc ? b.info.start_time - a.info.start_time : a.info.start_time - b.info.start_time));
    const offset = body.page_token ? Number(Buffer.from(body.page_token, 'base64').toString()) : 0;
    const page = runs.slice(offset, offset + max);
    const next = offset + max < runs.length ? Buffer.from(String(offset + max)).toString('base64') : undefined;
    return { runs: page.map((r) => this.runJson(r)), ...(next ? { next_page_token: next } : {}) };
  }

  private listArtifacts(path: string) {
    const prefix = path.replace(/\/+$/, '') + '/';
    const entries = new Map<string, { path: string; is_dir: boolean; file_size?: number }>();
    for (const [key, bytes] of this.artifacts) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const first = rest.split('/')[0];
      if (rest.includes('/')) entries.set(first, { path: first, is_dir: true });
      else entries.set(first, { path: first, is_dir: false, file_size: bytes.length });
    }
    return { files: [...entries.values()] };
  }

  private run(id: string): Run {
    const run = this.runs.get(id);
    if (!run) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Run with id=${id} not found`);
    return run;
  }

  private runJson(run: Run) {
    const latest = new Map<string, Metric>();
    for (const m of run.metrics) {
      const cur = latest.get(m.key);
      if (!cur || m.step > cur.step || (m.step === cur.step && m.timestamp >= cur.timestamp)) latest.set(m.key, m);
    }
    return {
      info: { ...run.info },
      data: {
        metrics: [...latest.values()],
        params: [...run.params].map(([key, value]) => ({ key, value })),
        tags: [...run.tags].map(([key, value]) => ({ key, value })),
      },
    };
  }

  private validateKey(key: unknown, what: string): void {
    if (typeof key !== 'string' || key.length === 0) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Missing value for required parameter 'key' of ${what}`);
    if (!KEY_RE.test(key)) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid ${what} name: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).`);
    if (key.split('/').some((p) => p === '..')) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid ${what} name: '${key}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such.`);
    if (key.length > 250) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `${what} '${key.slice(0, 40)}...' had length ${key.length}, which exceeded length limit of 250`);
  }

  private validateTag(t: { key: string; value: string }): void {
    this.validateKey(t.key, 'tag');
    const max = this.options.maxTagValueLength ?? 5000;
    if (String(t.value).length > max) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Tag value '${String(t.value).slice(0, 40)}...' had length ${String(t.value).length}, which exceeded length limit of ${max}`);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function parseJson(raw: Buffer): any {
  if (raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ApiError(400, 'MALFORMED_REQUEST', 'Request body is not valid JSON');
  }
}

function required(body: any, field: string): string {
  const v = body?.[field];
  if (v === undefined || v === null || v === '') throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Missing value for required parameter '${field}'.`);
  return String(v);
}

/** The subset of MLflow's search grammar the client uses: `tags.\`k\` = 'v'` / `params.k = 'v'` joined by AND. */
function parseFilter(filter: string): Array<{ kind: 'tags' | 'params'; key: string; value: string }> {
  if (!filter.trim()) return [];
  return filter.split(/\s+AND\s+/i).map((clause) => {
    const m = /^\s*(tags|params)\.(?:`([^`]+)`|([\w.]+))\s*=\s*'((?:[^'\\]|\\.)*)'\s*$/.exec(clause);
    if (!m) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid filter '${clause}'`);
    return { kind: m[1] as 'tags' | 'params', key: m[2] ?? m[3], value: m[4].replace(/\\'/g, "'") };
  });
}
