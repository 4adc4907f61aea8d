import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { contentTypeOf } from '../tracking/mlflow/client.ts';
import { redactServerPaths } from '../tracking/mlflow/http.ts';
import { resolveRun } from '../tracking/compare.ts';
import type { TrackedRun, TrackReader } from '../tracking/model.ts';
import { compareView, runsTable, type RunsQuery } from './data.ts';
import { renderComparePage, renderError, renderRunsPage } from './pages.ts';
import { errorText } from '../util/error-text.ts';

export interface DashboardOptions {
  reader: TrackReader;
  /** Default 127.0.0.1: the dashboard shows experiment data and has no authentication. */
  host?: string;
  port?: number;
  trackerLabel?: string;
}

export interface Dashboard {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Runs on one compare page (the runs page lists any number). */
const MAX_COMPARED = 40;

// Pages carry no script at all; artifacts (user-produced SVG/HTML) are sandboxed on top.
const PAGE_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const ARTIFACT_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'";

/** Serves the runs table, run comparisons and report files. */
export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    handle(opts, req, res).catch((err) => sendHtml(res, 500, renderError(500, redactServerPaths(errorText(err)))));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 4173, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function handle(opts: DashboardOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendHtml(res, 405, renderError(405, 'only GET'));
  const url = new URL(req.url ?? '/', 'http://localhost');
  const label = opts.trackerLabel ?? opts.reader.kind;
  if (url.pathname === '/') {
    const query: RunsQuery = {
      q: url.searchParams.get('q') ?? undefined,
      sort: url.searchParams.get('sort') || undefined,
      dir: url.searchParams.get('dir') === 'asc' ? 'asc' : 'desc',
      experiment: url.searchParams.get('experiment') || undefined,
      all: url.searchParams.get('all') === '1',
      metric: url.searchParams.get('metric') || undefined,
      cols: url.searchParams.get('cols') || undefined,
      group: url.searchParams.get('group') || undefined,
    };
    if (!query.sort) delete query.sort;
    return sendHtml(res, 200, renderRunsPage(await runsTable(opts.reader, query), query, label));
  }
  if (url.pathname === '/compare') {
    const ids = url.searchParams.getAll('id').flatMap((v) => v.split(',')).filter(Boolean);
    if (ids.length === 0) return sendHtml(res, 400, renderError(400, 'Select one or more runs to compare.'));
    const runs: TrackedRun[] = [];
    for (const id of ids.slice(0, MAX_COMPARED)) {
      try {
        runs.push(await resolveRun(opts.reader, id));
      } catch (err) {
        return sendHtml(res, 404, renderError(404, errorText(err)));
      }
    }
    const baseline = Number(url.searchParams.get('baseline') ?? 0);
    return sendHtml(res, 200, renderComparePage(await compareView(opts.reader, runs, Number.isInteger(baseline) ? baseline : 0)));
  }
  if (url.pathname === '/artifact') {
    const run = url.searchParams.get('run');
    const path = url.searchParams.get('path');
    if (!run || !path) return sendHtml(res, 400, renderError(400, 'run and path are required'));
    let bytes: Buffer | undefined;
    try {
      bytes = await opts.reader.readArtifact(run, path);
    } catch {
      // The tracking server's own error text can name its local paths: never shown.
      return sendHtml(res, 502, renderError(502, `artifact ${path} of run ${run} could not be read from the ${opts.reader.kind} tracker`));
    }
    if (!bytes) return sendHtml(res, 404, renderError(404, `no artifact ${path} in run ${run}`));
    res.writeHead(200, { 'content-type': contentTypeOf(path), 'content-security-policy': ARTIFACT_CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'private, max-age=60' });
    res.end(req.method === 'HEAD' ? undefined : bytes);
    return;
  }
  if (url.pathname === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
    return;
  }
  sendHtml(res, 404, renderError(404, `no page ${url.pathname}`));
}

function sendHtml(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': PAGE_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
  res.end(body);
}
