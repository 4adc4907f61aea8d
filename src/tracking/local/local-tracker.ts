import type { Store } from '../../store/store.ts';
import { Tags, type MetricPoint, type RunQuery, type TrackedRun, type TrackOp, type TrackReader, type TrackWriter } from '../model.ts';
import { errorText } from '../../util/error-text.ts';

/** Store collection of the local tracker: one document per run (pipeline run or stage instance). */
export const LOCAL_RUNS = 'tracking-runs';

interface LocalRunDoc extends TrackedRun {
  history: Record<string, MetricPoint[]>;
  /** Artifact path -> blob digest (the files are the report's own blobs, not copies). */
  artifacts: Record<string, string>;
}

/** A run's document is written at most this often while operations keep coming (and at close). */
const SAVE_EVERY_MS = 250;

/**
 * Writes runs as documents in the store; the run id is the writer ref (`<runId>` or `<runId>/<instance>`).
 * Operations update the documents in memory; each changed document is written a moment later, so a
 * burst of operations (a run's many small batches, a cached rerun) costs one write per run, not one
 * per operation. `close()` writes what is left.
 */
export class LocalTrackWriter implements TrackWriter {
  readonly kind = 'local' as const;
  private readonly docs = new Map<string, LocalRunDoc>();
  private readonly dirty = new Set<string>();
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private failure?: unknown;

  constructor(private readonly store: Store, private readonly experiment: string) {}

  async apply(op: TrackOp): Promise<void> {
    if (op.op === 'create-run') {
      const tags = Object.fromEntries(op.tags.map((t) => [t.key, t.value]));
      tags[Tags.runName] = op.name;
      if (op.parentRef) tags[Tags.parentRunId] = op.parentRef;
      const doc: LocalRunDoc = {
        id: op.ref,
        name: op.name,
        experiment: this.experiment,
        ...(op.parentRef ? { parentId: op.parentRef } : {}),
        status: 'RUNNING',
        startTime: op.startTime,
        params: {},
        tags,
        metrics: {},
        history: {},
        artifacts: {},
      };
      return this.save(doc);
    }
    const doc = await this.load(op.ref);
    if (op.op === 'log-batch') {
      for (const p of op.params) {
        const before = doc.params[p.key];
        if (before !== undefined && before !== p.value) throw new Error(`param ${p.key} of run ${op.ref} is already ${JSON.stringify(before)}; params are immutable`);
        doc.params[p.key] = p.value;
      }
      for (const t of op.tags) doc.tags[t.key] = t.value;
      for (const m of op.metrics) (doc.history[m.key] ??= []).push(m);
      for (const key of new Set(op.metrics.map((m) => m.key))) doc.metrics[key] = latest(doc.history[key]).value;
    } else if (op.op === 'upload') {
      doc.artifacts[op.path] = op.blob;
    } else if (op.op === 'upload-files') {
      // Local "uploads" are references to the store's blobs: nothing is copied, cached or not.
      for (const f of op.files) doc.artifacts[f.path] = f.blob;
    } else {
      doc.status = op.status;
      doc.endTime = op.endTime;
    }
    await this.save(doc);
  }

  async close(): Promise<void> {
    await this.writeDirty();
    this.throwFailure();
  }

  private async load(ref: string): Promise<LocalRunDoc> {
    const doc = this.docs.get(ref) ?? (await this.store.getDoc<LocalRunDoc>(LOCAL_RUNS, ref));
    if (!doc) throw new Error(`tracking run ${ref} does not exist in ${this.store.location}`);
    return doc;
  }

  private async save(doc: LocalRunDoc): Promise<void> {
    this.docs.set(doc.id, doc);
    this.dirty.add(doc.id);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.writeDirty(), SAVE_EVERY_MS);
      this.timer.unref();
    }
    this.throwFailure();
  }

  /** Writes the changed documents; never rejects (a failure is kept for the next operation or close). */
  private async writeDirty(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const snapshots = [...this.dirty].map((id) => JSON.parse(JSON.stringify(this.docs.get(id))) as LocalRunDoc);
    this.dirty.clear();
    this.writing = this.writing.then(async () => {
      for (const doc of snapshots) {
        try {
          await this.store.putDoc(LOCAL_RUNS, doc.id, doc);
        } catch (err) {
          this.failure ??= new Error(`writing run ${doc.id} to the store failed: ${errorText(err)}`, { cause: err });
        }
      }
    });
    await this.writing;
  }

  /** A write that failed in the background is reported by the next operation (or close), once. */
  private throwFailure(): void {
    const err = this.failure;
    this.failure = undefined;
    if (err) throw err;
  }
}

/** MLflow's rule for a metric's latest value: highest step, then latest timestamp, then largest value. */
export function latest(points: readonly MetricPoint[]): MetricPoint {
  return points.reduce((a, b) => (b.step > a.step || (b.step === a.step && (b.timestamp > a.timestamp || (b.timestamp === a.timestamp && b.value > a.value))) ? b : a));
}

export class LocalTrackReader implements TrackReader {
  readonly kind = 'local' as const;

  constructor(private readonly store: Store) {}

  async listRuns(query: RunQuery = {}): Promise<TrackedRun[]> {
    const runs: TrackedRun[] = [];
    for await (const id of this.store.listDocIds(LOCAL_RUNS)) {
      const doc = await this.store.getDoc<LocalRunDoc>(LOCAL_RUNS, id);
      if (!doc) continue;
      if (query.experiment && doc.experiment !== query.experiment) continue;
      if (query.parentsOnly && doc.parentId) continue;
      if (query.tag && doc.tags[query.tag.key] !== query.tag.value) continue;
      runs.push(publicRun(doc));
    }
    runs.sort((a, b) => b.startTime - a.startTime);
    return query.limit ? runs.slice(0, query.limit) : runs;
  }

  async getRun(id: string): Promise<TrackedRun | undefined> {
    const doc = await this.store.getDoc<LocalRunDoc>(LOCAL_RUNS, id);
    return doc && publicRun(doc);
  }

  async children(parentId: string): Promise<TrackedRun[]> {
    const runs: TrackedRun[] = [];
    for await (const id of this.store.listDocIds(LOCAL_RUNS)) {
      if (!id.startsWith(parentId + '/')) continue;
      const doc = await this.store.getDoc<LocalRunDoc>(LOCAL_RUNS, id);
      if (doc?.parentId === parentId) runs.push(publicRun(doc));
    }
    return runs.sort((a, b) => a.startTime - b.startTime || a.name.localeCompare(b.name));
  }

  async metricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    const doc = await this.store.getDoc<LocalRunDoc>(LOCAL_RUNS, runId);
    return [...(doc?.history[key] ?? [])].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
  }

  async listArtifacts(runId: string): Promise<string[]> {
    const doc = await this.store.getDoc<LocalRunDoc>(LOCAL_RUNS, runId);
    return Object.keys(doc?.artifacts ?? {}).sort();
  }

  async readArtifact(runId: string, path: string): Promise<Buffer | undefined> {
    const doc = await this.store.getDoc<LocalRunDoc>(LOCAL_RUNS, runId);
    const blob = doc?.artifacts[path];
    return blob ? this.store.getBlob(blob) : undefined;
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    const doc = await this.store.getDoc<LocalRunDoc>(LOCAL_RUNS, runId);
    if (!doc) throw new Error(`no tracked run ${runId} in ${this.store.location}`);
    doc.tags[key] = value;
    await this.store.putDoc(LOCAL_RUNS, runId, doc);
  }
}

function publicRun(doc: LocalRunDoc): TrackedRun {
  const { history: _history, artifacts: _artifacts, ...run } = doc;
  return run;
}
