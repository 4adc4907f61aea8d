import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

/**
 * A local protocol double of the MLflow tracking server (REST API 2.0 and the mlflow-artifacts proxy),
 * implementing exactly the endpoints the client uses, with MLflow 2.x's validation rules and error JSON
 * (matched against mlflow/utils/validation.py, mlflow/server/handlers.py, mlflow/utils/uri.py and
 * mlflow/utils/search_utils.py of MLflow 2.x):
 * - keys: `_VALID_PARAM_AND_METRIC_NAMES` (`^[/\w.\- ]*$`, Unicode `\w` as in Python) and
 *   `path_not_unique` (the name must equal its `posixpath.normpath`: no trailing `/`, `//`, `/./`, `..`),
 *   at most 250 characters;
 * - runs/log-batch: at most 1000 metrics, 100 params, 100 tags, 1000 items and 1 MB of request JSON
 *   (`MAX_BATCH_LOG_REQUEST_SIZE`); duplicate param keys in one request, even with the same value
 *   (`_validate_param_keys_unique`); int64 steps and timestamps (a fractional step fails the protobuf
 *   parse); numeric metric values; string param and tag values (proto string fields);
 * - immutable params, unknown ids (RESOURCE_DOES_NOT_EXIST, 404), duplicate experiments
 *   (RESOURCE_ALREADY_EXISTS);
 * - the artifact proxy: `validate_path_is_safe` (`..` segments, absolute paths -> 400 "Invalid path");
 *   a GET of a missing file is an unhandled error in the server: 500 with Flask's HTML error page that
 *   names the server's local artifact path (what MLflow 2.4 answers);
 * - search filters: values in '...' or "..." taken verbatim without unescaping (`_strip_quotes`), so
 *   `\'` never matches an apostrophe; `=`, `!=`, `LIKE`, `ILIKE` on tags, params and run_name;
 * - the Model Registry (registered-models/create|get|search|set-tag, model-versions/create|get|search,
 *   registered-models/alias POST|GET|DELETE) with `_validate_model_alias_name` and source checks.
 * It can simulate an outage (connections reset or refused) and 5xx answers. Every request is kept.
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
  authorization?: string;
}

class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

// Python's `\w` on str is Unicode-aware.
const KEY_RE = /^[/\p{L}\p{N}\p{M}_.\- ]*$/u;
const MAX_BATCH_LOG_REQUEST_SIZE = 1_000_000;
/** Where a real server keeps artifacts on its disk; it must never reach a client's user. */
export const SERVER_ARTIFACT_ROOT = '/srv/mlflow/mlartifacts';

/** `posixpath.normpath(name) != name or norm == '.' or norm.startswith('..') or norm.startswith('/')`. */
export function pathNotUnique(name: string): boolean {
  return normpath(name) !== name || name === '.' || normpath(name).startsWith('..') || normpath(name).startsWith('/');
}

function normpath(path: string): string {
  if (path === '') return '.';
  const initial = path.startsWith('/') ? (path.startsWith('//') && !path.startsWith('///') ? 2 : 1) : 0;
  const out: string[] = [];
  for (const comp of path.split('/')) {
    if (comp === '' || comp === '.') continue;
    if (comp !== '..' || (!initial && !out.length) || (out.length && out.at(-1) === '..')) out.push(comp);
    else if (out.length) out.pop();
  }
  const joined = '/'.repeat(initial) + out.join('/');
  return joined || '.';
}
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
  readonly registeredModels = new Map<string, RegisteredModel>();
  readonly received: ReceivedRequest[] = [];
  /** `reset`: connections are destroyed (server crashed); `error`: answers `errorStatus` to everything. */
  mode: 'up' | 'reset' | 'error' = 'up';
  errorStatus = 503;
  /** The next N requests get `errorStatus`, then the server recovers. */
  failNext = 0;
  /** Delay before answering (a slow server). */
  delayMs = 0;
  /** `Authorization` header every request must carry (as `mlflow server --app-name basic-auth`), else 401. */
  requireAuthorization?: string;
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
    this.received.push({ method: req.method ?? 'GET', path: url.pathname + url.search, body: raw.toString('utf8'), authorization: req.headers.authorization });
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.requireAuthorization !== undefined && req.headers.authorization !== this.requireAuthorization) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="mlflow"' });
      res.end('You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.');
      return;
    }
    if (this.mode === 'error' || this.failNext > 0) {
      if (this.failNext > 0) this.failNext--;
      return send(res, this.errorStatus, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'simulated outage' });
    }
    try {
      // `new URL` resolves `..`; Flask's router hands the raw path to `validate_path_is_safe`.
      const rawPath = decodeURIComponent((req.url ?? '/').split('?')[0]);
      if (rawPath.startsWith('/api/2.0/mlflow-artifacts/') && rawPath.split('/').includes('..')) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'Invalid path');
      const out = this.route(req.method ?? 'GET', url, raw);
      if (out instanceof HtmlError) {
        res.writeHead(out.status, { 'content-type': 'text/html; charset=utf-8' });
        res.end(out.html);
      } else if (Buffer.isBuffer(out)) {
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
      if (rel) validatePathIsSafe(rel);
      if (method === 'PUT' && rel) {
        this.artifacts.set(rel, raw);
        return {};
      }
      if (method === 'GET' && rel) {
        const bytes = this.artifacts.get(rel);
        // MLflow 2.x: the local artifact repository raises FileNotFoundError, which no handler maps:
        // Flask answers 500 with its HTML error page (and the server's local path in the log/page).
        if (!bytes) return new HtmlError(500, `<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>[Errno 2] No such file or directory: '${SERVER_ARTIFACT_ROOT}/${rel}'</p>\n`);
        return bytes;
      }
      if (method === 'GET') {
        const listed = url.searchParams.get('path') ?? '';
        if (listed) validatePathIsSafe(listed);
        return this.listArtifacts(listed);
      }
    }
    const m = /^\/api\/2\.0\/mlflow\/(.+)$/.exec(path);
    if (!m) throw new ApiError(404, 'ENDPOINT_NOT_FOUND', `No API endpoint at ${path}`);
    const endpoint = `${method} ${m[1]}`;
    const body = method === 'POST' || (method === 'DELETE' && raw.length) ? parseJson(raw) : Object.fromEntries(url.searchParams);
    if (endpoint === 'POST runs/log-batch' && raw.length > MAX_BATCH_LOG_REQUEST_SIZE) {
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Batched logging API requests must be at most ${MAX_BATCH_LOG_REQUEST_SIZE} bytes, got a request of size ${raw.length}.`);
    }
    const registry = this.registryRoute(endpoint, body);
    if (registry !== undefined) return registry;
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
        this.validateTag({ key: required(body, 'key'), value: body.value ?? '' });
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
      // protobuf's JSON parser: a double field takes numbers (and numeric strings), an int64 field integers only.
      if (typeof m.value !== 'number' && !(typeof m.value === 'string' && m.value.trim() !== '' && !Number.isNaN(Number(m.value)))) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Got invalid value ${m.value} for metric '${m.key}' (timestamp=${m.timestamp}). Please specify value as a valid double (64-bit floating point)`);
      if (!Number.isInteger(m.timestamp) || m.timestamp < 0) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Got invalid timestamp ${m.timestamp} for metric '${m.key}' (value=${m.value}). Timestamp must be a nonnegative long (64-bit integer) `);
      if (m.step !== undefined && !Number.isInteger(m.step)) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid request body: Failed to parse metrics field: Couldn't parse integer: ${m.step}.`);
    }
    const dupes: string[] = [];
    const unique = new Set<string>();
    for (const p of params) {
      this.validateKey(p.key, 'param');
      if (typeof p.value !== 'string') throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid request body: Failed to parse params field: Invalid string value ${JSON.stringify(p.value)} for param '${p.key}'.`);
      const value = p.value;
      const max = this.options.maxParamValueLength ?? 500;
      if (value.length > max) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Param value '${value.slice(0, 40)}...' had length ${value.length}, which exceeded length limit of ${max}`);
      if (unique.has(p.key)) dupes.push(p.key);
      unique.add(p.key);
    }
    if (dupes.length) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Duplicate parameter keys have been submitted: [${dupes.map((k) => `'${k}'`).join(', ')}]. Please ensure the request contains only one param value per param key.`);
    const changed = params.filter((p) => run.params.has(p.key) && run.params.get(p.key) !== String(p.value));
    if (changed.length) {
      const desc = changed.map((p) => `{'key': '${p.key}', 'old_value': '${run.params.get(p.key)}', 'new_value': '${p.value}'}`).join(', ');
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Changing param values is not allowed. Params were already logged='[${desc}]' for run ID='${run.info.run_id}'.`);
    }
    tags.forEach((t) => this.validateTag(t));
    for (const p of params) run.params.set(p.key, String(p.value));
    for (const t of tags) run.tags.set(t.key, String(t.value));
    for (const m of metrics) run.metrics.push({ key: m.key, value: Number(m.value), timestamp: m.timestamp, step: m.step ?? 0 });
    return {};
  }

  private searchRuns(body: any) {
    const ids: string[] = body.experiment_ids ?? [];
    const max = body.max_results ?? 1000;
    if (max > 50000) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid value ${max} for parameter 'max_results' supplied. It must be at most 50000`);
    const conditions = parseFilter(body.filter ?? '');
    let runs = [...this.runs.values()].filter((r) => ids.includes(r.info.experiment_id) && conditions.every((c) => c.test(c.kind === 'tags' ? r.tags.get(c.key) : c.kind === 'params' ? r.params.get(c.key) : r.info.run_name)));
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
    if (pathNotUnique(key)) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid ${what} name: '${key}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${normpath(key)}'`);
    if (key.length > 250) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `${what} '${key.slice(0, 40)}...' had length ${key.length}, which exceeded length limit of 250`);
  }

  private validateTag(t: { key: string; value: unknown }): void {
    this.validateKey(t.key, 'tag');
    if (typeof t.value !== 'string') throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid request body: Failed to parse tags field: Invalid string value ${JSON.stringify(t.value)} for tag '${t.key}'.`);
    const max = this.options.maxTagValueLength ?? 5000;
    if (t.value.length > max) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Tag value '${t.value.slice(0, 40)}...' had length ${t.value.length}, which exceeded length limit of ${max}`);
  }

  // ---- Model Registry (REST API 2.0, as served by MLflow 2.x) ----

  private registryRoute(endpoint: string, body: any): unknown {
    switch (endpoint) {
      case 'POST registered-models/create': {
        const name = required(body, 'name');
        if (this.registeredModels.has(name)) throw new ApiError(400, 'RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
        const now = Date.now();
        const model: RegisteredModel = { name, creation_timestamp: now, last_updated_timestamp: now, description: String(body.description ?? ''), tags: new Map(), aliases: new Map(), versions: [] };
        for (const t of body.tags ?? []) {
          this.validateTag(t);
          model.tags.set(t.key, t.value);
        }
        this.registeredModels.set(name, model);
        return { registered_model: this.modelJson(model) };
      }
      case 'GET registered-models/get':
        return { registered_model: this.modelJson(this.model(required(body, 'name'))) };
      case 'POST registered-models/search': {
        const filter = String(body.filter ?? '').trim();
        const m = /^name\s*(=|LIKE|ILIKE)\s*(?:'([^']*)'|"([^"]*)")$/i.exec(filter);
        if (filter && !m) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid filter '${filter}'`);
        const test = m ? comparator(m[1], m[2] ?? m[3]) : () => true;
        const models = [...this.registeredModels.values()].filter((x) => test(x.name)).sort((a, b) => a.name.localeCompare(b.name));
        return { registered_models: models.map((x) => this.modelJson(x)) };
      }
      case 'POST registered-models/set-tag': {
        const model = this.model(required(body, 'name'));
        this.validateTag({ key: required(body, 'key'), value: body.value });
        model.tags.set(body.key, body.value);
        return {};
      }
      case 'POST model-versions/create': {
        const model = this.model(required(body, 'name'));
        const source = required(body, 'source');
        if (typeof body.source !== 'string') throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'Invalid value for source: must be a string');
        const runId = body.run_id ? String(body.run_id) : '';
        const run = runId ? this.run(runId) : undefined;
        validateModelSource(source, run?.info.artifact_uri);
        const now = Date.now();
        const version: ModelVersion = { name: model.name, version: String(model.versions.length + 1), creation_timestamp: now, last_updated_timestamp: now, current_stage: 'None', description: String(body.description ?? ''), source, run_id: runId, status: 'READY', run_link: String(body.run_link ?? ''), tags: new Map() };
        for (const t of body.tags ?? []) {
          this.validateTag(t);
          version.tags.set(t.key, t.value);
        }
        model.versions.push(version);
        model.last_updated_timestamp = now;
        return { model_version: this.versionJson(model, version) };
      }
      case 'GET model-versions/get': {
        const model = this.model(required(body, 'name'));
        return { model_version: this.versionJson(model, this.version(model, required(body, 'version'))) };
      }
      case 'POST model-versions/search':
      case 'GET model-versions/search': {
        const filter = String(body.filter ?? '').trim();
        const m = /^name\s*=\s*(?:'([^']*)'|"([^"]*)")$/.exec(filter);
        if (filter && !m) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid filter '${filter}'`);
        const models = m ? [this.registeredModels.get(m[1] ?? m[2])].filter((x): x is RegisteredModel => !!x) : [...this.registeredModels.values()];
        return { model_versions: models.flatMap((x) => x.versions.map((v) => this.versionJson(x, v))) };
      }
      case 'POST registered-models/alias': {
        const model = this.model(required(body, 'name'));
        const alias = required(body, 'alias');
        validateAlias(alias);
        const version = this.version(model, required(body, 'version'));
        model.aliases.set(alias, version.version);
        return {};
      }
      case 'GET registered-models/alias': {
        const model = this.model(required(body, 'name'));
        const alias = required(body, 'alias');
        const v = model.aliases.get(alias);
        if (!v) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Registered model alias ${alias} not found.`);
        return { model_version: this.versionJson(model, this.version(model, v)) };
      }
      case 'DELETE registered-models/alias': {
        const model = this.model(required(body, 'name'));
        model.aliases.delete(required(body, 'alias'));
        return {};
      }
      default:
        return undefined;
    }
  }

  private model(name: string): RegisteredModel {
    const model = this.registeredModels.get(name);
    if (!model) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${name} not found`);
    return model;
  }

  private version(model: RegisteredModel, version: string): ModelVersion {
    if (!/^\d+$/.test(version)) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Model version must be an integer, got '${version}'`);
    const found = model.versions.find((v) => v.version === String(Number(version)));
    if (!found) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Model Version (name=${model.name}, version=${version}) not found`);
    return found;
  }

  private modelJson(model: RegisteredModel) {
    const latest = model.versions.at(-1);
    return {
      name: model.name,
      creation_timestamp: model.creation_timestamp,
      last_updated_timestamp: model.last_updated_timestamp,
      ...(model.description ? { description: model.description } : {}),
      ...(latest ? { latest_versions: [this.versionJson(model, latest)] } : {}),
      ...(model.tags.size ? { tags: [...model.tags].map(([key, value]) => ({ key, value })) } : {}),
      ...(model.aliases.size ? { aliases: [...model.aliases].map(([alias, version]) => ({ alias, version })) } : {}),
    };
  }

  private versionJson(model: RegisteredModel, v: ModelVersion) {
    const aliases = [...model.aliases].filter(([, version]) => version === v.version).map(([alias]) => alias);
    const { tags, ...rest } = v;
    return { ...rest, ...(tags.size ? { tags: [...tags].map(([key, value]) => ({ key, value })) } : {}), ...(aliases.length ? { aliases } : {}) };
  }
}

interface RegisteredModel {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description: string;
  tags: Map<string, string>;
  aliases: Map<string, string>;
  versions: ModelVersion[];
}

interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  current_stage: string;
  description: string;
  source: string;
  run_id: string;
  status: string;
  run_link: string;
  tags: Map<string, string>;
}

class HtmlError {
  constructor(readonly status: number, readonly html: string) {}
}

/** mlflow/utils/uri.py `validate_path_is_safe`: no `..` segment, no absolute path, no `#`, no backslash. */
function validatePathIsSafe(path: string): void {
  if (path.includes('#') || path.includes('\\') || path.startsWith('/') || /^[a-zA-Z]:/.test(path) || path.split('/').includes('..')) {
    throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'Invalid path');
  }
}

/** `_validate_model_alias_name`. */
function validateAlias(alias: string): void {
  if (!/^[\w-]*$/.test(alias)) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`);
  if (alias.length > 255) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Registered model alias name '${alias}' had length ${alias.length}, which exceeded length limit of 255`);
  if (alias.toLowerCase() === 'latest') throw new ApiError(400, 'INVALID_PARAMETER_VALUE', "'latest' alias name (case insensitive) is reserved.");
  if (/^[vV]\d+$/.test(alias)) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Version alias name '${alias}' is reserved.`);
}

/** handlers.py `_validate_source`: no file URIs or local paths outside the run's artifacts, no relative paths. */
function validateModelSource(source: string, runArtifactUri?: string): void {
  const bad = () => new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid model version source: '${source}'.`);
  if (/^file:/i.test(source) || source.startsWith('/') || !/^[a-z][\w+.-]*:/i.test(source)) throw bad();
  const path = source.replace(/^[a-z][\w+.-]*:\/*/i, '');
  if (decodeURIComponent(path).split('/').includes('..')) throw bad();
  if (runArtifactUri && !source.startsWith('runs:/') && !(source === runArtifactUri || source.startsWith(runArtifactUri + '/'))) throw bad();
}

function comparator(op: string, value: string): (v: string | undefined) => boolean {
  const upper = op.toUpperCase();
  if (upper === '=') return (v) => v === value;
  if (upper === '!=') return (v) => v !== undefined && v !== value;
  const re = new RegExp('^' + value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.') + '$', upper === 'ILIKE' ? 'is' : 's');
  return (v) => v !== undefined && re.test(v);
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

/**
 * The subset of MLflow's search grammar the client uses: `tags.<key>` / `params.<key>` / `attributes.run_name`
 * (key bare, in backticks or in double quotes) `=`, `!=`, `LIKE`, `ILIKE` a value in '...' or "...",
 * joined by AND. As in MLflow (sqlparse + `_strip_quotes`), the quotes are trimmed and nothing inside
 * is unescaped: `'it\'s'` is the value `it\'s` and `'it''s'` is `it''s`.
 */
function parseFilter(filter: string): Array<{ kind: 'tags' | 'params' | 'attributes'; key: string; test: (v: string | undefined) => boolean }> {
  if (!filter.trim()) return [];
  const clauses: string[] = [];
  let rest = filter.trim();
  const clause = /^\s*(tags|params|attributes|tag|param|attribute|attr)\.(?:`([^`]+)`|"([^"]+)"|([\w.]+))\s*(=|!=|LIKE|ILIKE)\s*('(?:''|\\'|[^'])*'|"(?:[^"])*")\s*/i;
  const parsed = [];
  while (rest.length) {
    const m = clause.exec(rest);
    if (!m) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid filter '${filter}'. Could not be parsed.`);
    clauses.push(m[0]);
    const kind = m[1].toLowerCase().startsWith('tag') ? 'tags' : m[1].toLowerCase().startsWith('param') ? 'params' : 'attributes';
    parsed.push({ kind: kind as 'tags' | 'params' | 'attributes', key: m[2] ?? m[3] ?? m[4], test: comparator(m[5], m[6].slice(1, -1)) });
    rest = rest.slice(m[0].length);
    const and = /^AND\s+/i.exec(rest);
    if (and) rest = rest.slice(and[0].length);
    else if (rest.length) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid filter '${filter}'. Could not be parsed.`);
  }
  return parsed;
}
