import type { Store } from '../../store/store.ts';
import { Tags, type TrackOp, type TrackWriter } from '../model.ts';
import type { MlflowClient } from './client.ts';
import { tagEquals } from './filter.ts';

/** What the writer knows about a run it created: enough to keep logging to it after a restart. */
export interface RemoteRun {
  runId: string;
  experimentId: string;
  artifactUri: string;
}

export interface MlflowWriterOptions {
  client: MlflowClient;
  store: Store;
  experiment: string;
  /** On replay, a `create-run` first looks for a run with the same `pipeline.ref` tag (it may have been created before the outage). */
  dedupeCreates?: boolean;
  log?(level: 'warn', message: string): void;
}

/** Applies tracking operations to an MLflow server, mapping writer refs to MLflow run ids. */
export class MlflowWriter implements TrackWriter {
  readonly kind = 'mlflow' as const;
  private readonly refs = new Map<string, RemoteRun>();
  private experimentId?: string;
  private controller = new AbortController();
  private artifactsUnsupported = false;

  constructor(private readonly opts: MlflowWriterOptions) {}

  exportRefs(): Record<string, RemoteRun> {
    return Object.fromEntries(this.refs);
  }

  importRefs(refs: Record<string, RemoteRun>): void {
    for (const [ref, run] of Object.entries(refs)) this.refs.set(ref, run);
  }

  remoteRun(ref: string): RemoteRun | undefined {
    return this.refs.get(ref);
  }

  /** Cancels requests in flight (used when the end-of-run flush times out). */
  abort(): void {
    this.controller.abort();
    this.controller = new AbortController();
  }

  async apply(op: TrackOp): Promise<void> {
    const { client } = this.opts;
    const signal = this.controller.signal;
    if (op.op === 'create-run') {
      this.experimentId ??= await client.ensureExperiment(this.opts.experiment, signal);
      if (this.opts.dedupeCreates) {
        const byRef = tagEquals(Tags.ref, op.ref);
        const existing = (await client.searchRuns({ experiment_ids: [this.experimentId], filter: byRef.filter, max_results: 100 }, signal)).filter((r) => byRef.exact(r.data.tags?.find((t) => t.key === Tags.ref)?.value));
        if (existing[0]) {
          const info = existing[0].info;
          this.refs.set(op.ref, { runId: info.run_id, experimentId: info.experiment_id, artifactUri: info.artifact_uri });
          return;
        }
      }
      const tags = [...op.tags];
      if (op.parentRef) tags.push({ key: Tags.parentRunId, value: this.run(op.parentRef).runId });
      tags.push({ key: Tags.runName, value: op.name });
      const info = await client.createRun({ experimentId: this.experimentId, startTime: op.startTime, runName: op.name, tags }, signal);
      this.refs.set(op.ref, { runId: info.run_id, experimentId: info.experiment_id, artifactUri: info.artifact_uri });
    } else if (op.op === 'log-batch') {
      const rejected = await client.logBatchSplitting(this.run(op.ref).runId, { metrics: op.metrics, params: op.params, tags: op.tags }, signal);
      for (const r of rejected) this.opts.log?.('warn', `tracking: ${r.kind} ${r.key} of ${op.ref} rejected by the server, the rest of the batch was logged: ${r.reason}`);
    } else if (op.op === 'upload') {
      await this.upload(op.ref, op.path, op.blob, signal);
    } else if (op.op === 'upload-files') {
      await this.uploadFiles(op, signal);
    } else {
      await client.updateRun(this.run(op.ref).runId, op.status, op.endTime, signal);
    }
  }

  private async upload(ref: string, path: string, blob: string, signal: AbortSignal): Promise<boolean> {
    if (this.artifactsUnsupported) return false;
    const bytes = await this.opts.store.getBlob(blob);
    try {
      await this.opts.client.uploadArtifact(this.run(ref).artifactUri, path, bytes, signal);
      return true;
    } catch (err) {
      if (err instanceof Error && /not served by the MLflow artifact proxy/.test(err.message)) {
        this.artifactsUnsupported = true;
        this.opts.log?.('warn', `tracking: ${err.message}`);
        return false;
      }
      throw err;
    }
  }

  /** Uploads an artifact's files once per experiment: a later run with the same artifact links to the first. */
  private async uploadFiles(op: Extract<TrackOp, { op: 'upload-files' }>, signal: AbortSignal): Promise<void> {
    const { client } = this.opts;
    const run = this.run(op.ref);
    const holder = tagEquals(Tags.filesOf, op.digest);
    const found = (await client.searchRuns({ experiment_ids: [run.experimentId], filter: holder.filter, max_results: 10 }, signal)).find(
      (r) => r.info.run_id !== run.runId && holder.exact(r.data.tags?.find((t) => t.key === Tags.filesOf)?.value),
    );
    if (found) return client.setTag(run.runId, Tags.filesRun, found.info.run_id, signal);
    for (const f of op.files) if (!(await this.upload(op.ref, f.path, f.blob, signal))) return;
    await client.setTag(run.runId, Tags.filesOf, op.digest, signal);
  }

  private run(ref: string): RemoteRun {
    const run = this.refs.get(ref);
    if (!run) throw new Error(`tracking run ${ref} was never created on ${this.opts.client.baseUrl}`);
    return run;
  }

  async close(): Promise<void> {}
}
