import type { EventSink, ItemCounts, LogLevel, PipelineEvent } from '../../engine/events.ts';
import { formatDuration, formatItems, rateAndEta } from './format.ts';

const PROGRESS_EVERY_MS = 5000;

/** One line per event, for CI logs and pipes. Progress lines at most every few seconds per instance. */
export class PlainReporter implements EventSink {
  readonly items = new Map<string, ItemCounts>();
  private readonly lastProgress = new Map<string, { time: number; items: ItemCounts }>();
  private readonly started = new Map<string, number>();

  constructor(private readonly out: (line: string) => void = (l) => process.stderr.write(l + '\n'), private readonly minLevel: LogLevel = 'info') {}

  handle(e: PipelineEvent): void {
    const time = new Date(e.time).toISOString().slice(11, 19);
    switch (e.type) {
      case 'run-start':
        this.out(`${time} run ${e.runId}: ${e.experiment} (${e.instances.length} stage instances)`);
        break;
      case 'instance-start':
        this.started.set(e.instance, e.time);
        this.out(`${time} ${e.instance}: running${e.worker ? ` on worker ${e.worker}` : ''}`);
        break;
      case 'progress': {
        this.items.set(e.instance, e.items);
        const last = this.lastProgress.get(e.instance);
        // The same counts again (a queue relaying its workers' sums) would print the same line twice.
        const repeat = last !== undefined && formatItems(last.items) === formatItems(e.items);
        if (!repeat && (e.time - (last?.time ?? 0) >= PROGRESS_EVERY_MS || e.items.done === e.items.total)) {
          this.lastProgress.set(e.instance, { time: e.time, items: e.items });
          const rate = rateAndEta(e.items, e.time - (this.started.get(e.instance) ?? e.time));
          this.out(`${time} ${e.instance}: ${formatItems(e.items)}${rate ? `, ${rate}` : ''}`);
        }
        break;
      }
      case 'log':
        if (levelRank[e.level] >= levelRank[this.minLevel]) this.out(`${time} ${e.instance ?? 'pipeline'}: ${e.level === 'info' ? '' : e.level + ': '}${e.message}`);
        break;
      case 'metric':
        break;
      case 'instance-end':
        if (e.items) this.items.set(e.instance, e.items);
        this.out(`${time} ${e.instance}: ${e.status}${e.durationMs ? ` in ${formatDuration(e.durationMs)}` : ''}${e.items?.total ? ` (${formatItems(e.items)})` : ''}${e.workers?.length ? ` on ${e.workers.join(', ')}` : ''}${e.error ? ` - ${e.error}` : ''}`);
        break;
      case 'run-end':
        break;
    }
  }
}

export const levelRank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
