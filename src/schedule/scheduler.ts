import { randomBytes } from 'node:crypto';
import { Cron } from 'croner';
import type { RunOptions, RunResult } from '../engine/runner-api.ts';
import type { Store } from '../store/store.ts';
import type { PromoteConfig } from '../tracking/config.ts';
import type { TrackReader } from '../tracking/model.ts';
import { promoteIfBetter, registerChampion, type PromotionResult } from './promote.ts';
import type { ModelRegistry } from '../tracking/registry/model.ts';
import { errorText } from '../util/error-text.ts';

/** Store collection with one document per triggered run. */
export const SCHEDULE_RUNS = 'schedule-runs';

export interface ScheduleRecord {
  id: string;
  file: string;
  cron: string;
  triggeredAt: number;
  endedAt?: number;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled' | 'error' | 'skipped';
  /** Why a trigger was skipped or errored. */
  reason?: string;
  runId?: string;
  promotion?: PromotionResult;
}

export interface SchedulerOptions {
  file: string;
  cron: string;
  timezone?: string;
  store: Store;
  /** The pipeline runner (`runPipeline`); injected in tests. */
  run(options: RunOptions): Promise<RunResult>;
  runOptions?: Omit<RunOptions, 'file' | 'signal'>;
  /** Champion promotion: needs the tracker to read metrics from and to tag. */
  promote?: { config: PromoteConfig; reader: TrackReader; experiment: string; registry?: ModelRegistry };
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /**
   * Stop after this many runs (`--max-runs`). A trigger skipped because the previous run is still going
   * is recorded but does not count: `--max-runs 2` means two runs, however long each takes.
   */
  maxRuns?: number;
}

/**
 * Runs an experiment on a cron schedule (croner), never overlapping itself: a trigger that fires while
 * the previous run is still going is recorded as skipped. Each trigger is recorded in `schedule-runs`.
 */
export class Scheduler {
  private job?: Cron;
  private running?: Promise<void>;
  private controller = new AbortController();
  private started = 0;
  private finished!: () => void;
  /** Resolves when the schedule is stopped (or `maxRuns` triggers are done) and no run is going. */
  readonly done: Promise<void>;

  constructor(private readonly opts: SchedulerOptions) {
    this.done = new Promise((resolve) => (this.finished = resolve));
  }

  /** Validates the cron expression (throws with croner's message) and starts waiting. */
  start(): this {
    this.job = new Cron(this.opts.cron, { timezone: this.opts.timezone, name: `pipeline ${this.opts.file}` }, () => this.trigger());
    return this;
  }

  /**
   * Runs once now, outside the cron (for a systemd timer or a Kubernetes CronJob that triggers the
   * process): recorded and promoted like a scheduled run.
   */
  async runOnce(): Promise<ScheduleRecord> {
    const record: ScheduleRecord = { id: recordId(), file: this.opts.file, cron: this.opts.cron, triggeredAt: Date.now(), status: 'running' };
    await this.execute(record);
    return record;
  }

  nextRun(): Date | null {
    return this.job?.nextRun() ?? null;
  }

  /** Stops triggering and cancels a run in progress; resolves when it has ended. */
  async stop(): Promise<void> {
    this.job?.stop();
    this.controller.abort();
    await this.running;
    this.finished();
  }

  private trigger(): void {
    const record: ScheduleRecord = { id: recordId(), file: this.opts.file, cron: this.opts.cron, triggeredAt: Date.now(), status: 'running' };
    if (this.running) {
      record.status = 'skipped';
      record.reason = 'the previous run is still running';
      record.endedAt = record.triggeredAt;
      this.opts.log('warn', `schedule: skipped a trigger of ${this.opts.file}: the previous run is still running`);
      void this.save(record);
      return;
    }
    if (this.opts.maxRuns !== undefined && this.started >= this.opts.maxRuns) return;
    this.started++;
    const reachedMax = this.opts.maxRuns !== undefined && this.started >= this.opts.maxRuns;
    this.running = this.execute(record).finally(() => {
      this.running = undefined;
      if (reachedMax) void this.stop();
    });
  }

  private async execute(record: ScheduleRecord): Promise<void> {
    await this.save(record);
    this.opts.log('info', `schedule: starting ${this.opts.file}`);
    try {
      const result = await this.opts.run({ ...this.opts.runOptions, file: this.opts.file, signal: this.controller.signal });
      record.runId = result.runId;
      record.status = result.status === 'running' ? 'error' : result.status;
      if (result.status === 'succeeded' && this.opts.promote) {
        const { config, registry } = this.opts.promote;
        record.promotion = await promoteIfBetter({ ...this.opts.promote, promote: config, runId: result.runId }).catch((err): PromotionResult => ({ promoted: false, reason: `promotion failed: ${err instanceof Error ? err.message : err}` }));
        if (registry && config.register) record.promotion = await registerChampion(record.promotion, { registry, store: this.opts.store, runId: result.runId, model: config.model ?? this.opts.promote.experiment, alias: config.alias });
        this.opts.log(record.promotion.promoted ? 'info' : 'warn', `schedule: run ${result.runId} ${record.promotion.promoted ? 'is the new champion' : 'not promoted'}: ${record.promotion.reason}`);
        if (record.promotion.registered) this.opts.log('info', `schedule: registered ${record.promotion.registered.model} version ${record.promotion.registered.version} (${record.promotion.registered.registry} registry), alias ${record.promotion.registered.alias}`);
        if (record.promotion.registerError) this.opts.log('warn', `schedule: the champion's models were not registered: ${record.promotion.registerError}`);
      }
      this.opts.log(result.status === 'succeeded' ? 'info' : 'warn', `schedule: run ${result.runId} ${result.status}`);
    } catch (err) {
      record.status = 'error';
      record.reason = errorText(err);
      this.opts.log('error', `schedule: run of ${this.opts.file} failed to start: ${record.reason}`);
    }
    record.endedAt = Date.now();
    await this.save(record);
    const next = this.job ? this.nextRun() : null;
    if (next) this.opts.log('info', `schedule: next run at ${next.toISOString()}`);
  }

  private async save(record: ScheduleRecord): Promise<void> {
    try {
      await this.opts.store.putDoc(SCHEDULE_RUNS, record.id, record);
    } catch (err) {
      this.opts.log('error', `schedule: cannot record the run in ${this.opts.store.location}: ${err instanceof Error ? err.message : err}`);
    }
  }
}

function recordId(): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
}

export async function listScheduleRecords(store: Store): Promise<ScheduleRecord[]> {
  const out: ScheduleRecord[] = [];
  for await (const id of store.listDocIds(SCHEDULE_RUNS)) {
    const doc = await store.getDoc<ScheduleRecord>(SCHEDULE_RUNS, id);
    if (doc) out.push(doc);
  }
  return out.sort((a, b) => a.triggeredAt - b.triggeredAt);
}
