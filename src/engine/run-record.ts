import type { Store } from '../store/store.ts';
import { Collections } from '../store/store.ts';
import type { EventSink, InstanceStatus, ItemCounts, PipelineEvent, RunStatus } from './events.ts';

export interface InstanceRecord {
  id: string;
  stage: string;
  uses: string;
  status: InstanceStatus;
  cacheKey?: string;
  artifact?: string;
  durationMs?: number;
  items?: ItemCounts;
  error?: string;
  /** The `pipeline worker`s that ran it (queue executor). */
  workers?: string[];
}

export interface RunRecord {
  id: string;
  experiment: string;
  file: string;
  fileHash: string;
  gitCommit?: string;
  /** Whether tracked files differed from gitCommit when the run started (absent outside a git checkout). */
  gitDirty?: boolean;
  /** Those files (the first 50), relative to the repository. */
  gitChanged?: string[];
  argv: string[];
  /** Command-line overrides (`--set`, or a sweep variant's values): `params.lr=0.0003`. */
  overrides?: string[];
  /** The sweep this run is a variant of. */
  sweep?: { id: string; variant: string };
  pid: number;
  status: RunStatus;
  startedAt: number;
  endedAt?: number;
  instances: InstanceRecord[];
}

/** Instance ends arriving within this long of each other are persisted in one write. */
const SAVE_WITHIN_MS = 100;

/**
 * Keeps the run record in the store up to date as events arrive: every instance end is persisted
 * (within 100 ms, so a burst of them, as in a cached rerun, is one write), the run's end at once.
 */
export class RunRecorder implements EventSink {
  private writing: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  constructor(private readonly store: Store, readonly record: RunRecord) {}

  handle(event: PipelineEvent): void {
    const r = this.record;
    if (event.type === 'instance-start') {
      upsert(r, { id: event.instance, stage: event.stage, uses: event.uses, status: 'running', cacheKey: event.cacheKey, workers: event.worker ? [event.worker] : undefined });
    } else if (event.type === 'instance-end') {
      upsert(r, { id: event.instance, stage: event.stage, uses: event.uses, status: event.status, cacheKey: event.cacheKey, artifact: event.artifact, durationMs: event.durationMs, items: event.items, error: event.error, workers: event.workers });
    } else if (event.type === 'run-end') {
      r.status = event.status;
      r.endedAt = event.time;
      this.saveInBackground();
      return;
    } else return;
    if (!this.timer) {
      this.timer = setTimeout(() => this.saveInBackground(), SAVE_WITHIN_MS);
      this.timer.unref();
    }
  }

  save(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const snapshot = JSON.parse(JSON.stringify(this.record));
    // A failed write does not stop the later ones; close() reports the last outcome.
    this.writing = this.writing.catch(() => undefined).then(() => this.store.putDoc(Collections.runs, this.record.id, snapshot));
    return this.writing;
  }

  /** A save nobody awaits now: its failure surfaces at close(), not as an unhandled rejection. */
  private saveInBackground(): void {
    this.save().catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.timer) await this.save();
    await this.writing;
  }
}

function upsert(record: RunRecord, entry: InstanceRecord): void {
  const i = record.instances.findIndex((x) => x.id === entry.id);
  if (i < 0) record.instances.push(entry);
  else record.instances[i] = { ...record.instances[i], ...Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined)) };
}

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${Math.random().toString(16).slice(2, 6)}`;
}

/** A record still "running" whose process is gone was killed: show it as such. */
export function effectiveStatus(record: RunRecord): RunStatus | 'interrupted' {
  if (record.status !== 'running') return record.status;
  try {
    process.kill(record.pid, 0);
    return 'running';
  } catch {
    return 'interrupted';
  }
}

export async function listRuns(store: Store): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  for await (const id of store.listDocIds(Collections.runs)) {
    const r = await store.getDoc<RunRecord>(Collections.runs, id);
    if (r) runs.push(r);
  }
  return runs.sort((a, b) => a.startedAt - b.startedAt);
}
