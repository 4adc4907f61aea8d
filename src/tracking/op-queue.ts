import type { OpSink, TrackerLog } from './event-tracker.ts';
import { describe } from './event-tracker.ts';
import type { TrackOp, TrackWriter } from './model.ts';

/** Keeps operations the backend could not take (server down) and saves them for a later replay. */
export interface OpJournal {
  /** Replaces the saved list with `ops` (all ops buffered so far in this session, in order). */
  save(ops: readonly TrackOp[]): Promise<void>;
  /** Where the buffer lives, for messages. */
  readonly location: string;
}

export interface OpQueueOptions {
  writer: TrackWriter & { abort?(): void };
  log: TrackerLog;
  /** Without a journal, failed operations are logged and dropped (local tracker). */
  journal?: OpJournal;
  /** Errors that mean "backend unreachable" (switch to buffering) rather than "request rejected". */
  isTransient?(err: unknown): boolean;
  /** What the warning calls such an error (default: the tracking server is unreachable). */
  offlineReason?(err: unknown): string | undefined;
  /** Longest wait in `close()` before what is left is buffered. */
  flushTimeoutMs: number;
  /** Debounce of journal writes while offline. */
  persistEveryMs?: number;
}

/**
 * Applies operations one at a time, in order, off the caller's path: `push` never blocks or throws.
 * When the backend becomes unreachable, this operation and every later one go to the journal (the
 * queue never retries out of order, so a replay sees the same sequence).
 */
export class OpQueue implements OpSink {
  private queue: TrackOp[] = [];
  private buffered: TrackOp[] = [];
  private inFlight?: TrackOp;
  private working?: Promise<void>;
  private offline = false;
  private closed = false;
  private persistTimer?: NodeJS.Timeout;
  private persisting: Promise<void> = Promise.resolve();

  constructor(private readonly opts: OpQueueOptions) {}

  get isOffline(): boolean {
    return this.offline;
  }

  push(op: TrackOp): void {
    if (this.offline) {
      this.buffered.push(op);
      this.schedulePersist();
      return;
    }
    this.queue.push(op);
    this.working ??= this.work().finally(() => (this.working = undefined));
  }

  private async work(): Promise<void> {
    while (this.queue.length && !this.offline) {
      const op = this.queue.shift()!;
      this.inFlight = op;
      try {
        await this.opts.writer.apply(op);
      } catch (err) {
        if (this.offline) return; // close() timed out and took over this op.
        if (this.opts.journal && (this.opts.isTransient?.(err) ?? false)) {
          this.goOffline(`${this.opts.offlineReason?.(err) ?? 'tracking server unreachable'} (${describe(err)}); buffering to ${this.opts.journal.location}, replayed by the next run or \`pipeline runs sync\``, [op]);
          return;
        }
        this.opts.log('warn', `tracking: ${op.op} ${op.ref} failed: ${describe(err)}`);
      } finally {
        if (this.inFlight === op) this.inFlight = undefined;
      }
    }
  }

  private goOffline(message: string, head: TrackOp[]): void {
    this.offline = true;
    this.buffered.push(...head, ...this.queue);
    this.queue = [];
    this.opts.log('warn', message);
    this.schedulePersist();
  }

  private schedulePersist(): void {
    if (!this.opts.journal || this.persistTimer || this.closed) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = undefined;
      void this.persist();
    }, this.opts.persistEveryMs ?? 1000);
    this.persistTimer.unref();
  }

  private persist(): Promise<void> {
    const journal = this.opts.journal;
    if (!journal) return Promise.resolve();
    const snapshot = [...this.buffered];
    this.persisting = this.persisting
      .then(() => journal.save(snapshot))
      .catch((err) => this.opts.log('error', `tracking: cannot write the buffer at ${journal.location}: ${describe(err)}`));
    return this.persisting;
  }

  /** Waits (bounded) for the queue to drain, buffers what is left, and closes the writer. */
  async close(): Promise<void> {
    if (this.closed) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      (async () => {
        while (this.working) await this.working;
        return false;
      })(),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.opts.flushTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      const head = this.inFlight ? [this.inFlight] : [];
      this.inFlight = undefined;
      if (this.opts.journal) this.goOffline(`tracking server too slow (no answer within ${this.opts.flushTimeoutMs} ms at the end of the run); buffering the rest to ${this.opts.journal.location}`, head);
      else this.opts.log('warn', `tracking: gave up after ${this.opts.flushTimeoutMs} ms with ${head.length + this.queue.length} operations unsent`);
      this.opts.writer.abort?.();
    }
    this.closed = true;
    if (this.persistTimer) clearTimeout(this.persistTimer);
    if (this.buffered.length) await this.persist();
    await this.persisting;
    await this.opts.writer.close();
  }
}
