import type { EventSink, ItemCounts, LogLevel, PipelineEvent } from '../../engine/events.ts';
import { formatDuration, formatItems, rateAndEta } from './format.ts';
import { levelRank } from './plain.ts';

const REDRAW_MS = 100;
const BAR = 24;

/**
 * Live view for terminals: finished instances and log lines scroll above a block that is redrawn in
 * place with one progress line per running instance (items, bar, rate, ETA).
 */
export class TtyReporter implements EventSink {
  readonly items = new Map<string, ItemCounts>();
  private readonly running = new Map<string, { start: number; items?: ItemCounts }>();
  private drawn = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, private readonly minLevel: LogLevel = 'info') {}

  handle(e: PipelineEvent): void {
    switch (e.type) {
      case 'run-start':
        this.print(`run ${e.runId}: ${e.experiment} (${e.instances.length} stage instances)`);
        this.timer = setInterval(() => this.draw(), REDRAW_MS);
        this.timer.unref();
        break;
      case 'instance-start':
        this.running.set(e.instance, { start: e.time });
        break;
      case 'progress': {
        this.items.set(e.instance, e.items);
        const r = this.running.get(e.instance);
        if (r) r.items = e.items;
        break;
      }
      case 'log':
        if (levelRank[e.level] >= levelRank[this.minLevel]) this.print(`${e.instance ?? 'pipeline'}: ${e.level === 'info' ? '' : colour(e.level === 'error' ? 31 : 33, e.level) + ': '}${e.message}`);
        break;
      case 'instance-end': {
        this.running.delete(e.instance);
        if (e.items) this.items.set(e.instance, e.items);
        const status = colour(e.status === 'failed' ? 31 : e.status === 'cached' ? 36 : e.status === 'ran' ? 32 : 33, e.status.padEnd(9));
        this.print(`${status} ${e.instance}${e.durationMs ? ` ${formatDuration(e.durationMs)}` : ''}${e.items?.total ? ` ${formatItems(e.items)}` : ''}${e.workers?.length ? ` on ${e.workers.join(', ')}` : ''}${e.error ? `\n  ${e.error}` : ''}`);
        break;
      }
      case 'run-end':
        if (this.timer) clearInterval(this.timer);
        this.clear();
        break;
    }
  }

  private print(line: string): void {
    this.clear();
    this.stream.write(line + '\n');
    this.draw();
  }

  private clear(): void {
    if (this.drawn) this.stream.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(): void {
    this.clear();
    const now = Date.now();
    const width = this.stream.columns ?? 100;
    const lines = [...this.running].map(([id, r]) => {
      const elapsed = formatDuration(now - r.start);
      if (!r.items || r.items.total === 0) return `  ${id} … ${elapsed}`;
      const frac = r.items.done / r.items.total;
      const bar = '█'.repeat(Math.round(frac * BAR)).padEnd(BAR, '░');
      const rate = rateAndEta(r.items, now - r.start);
      return `  ${id} ${bar} ${formatItems(r.items)} ${elapsed}${rate ? `, ${rate}` : ''}`;
    });
    for (const line of lines) this.stream.write(line.slice(0, width - 1) + '\n');
    this.drawn = lines.length;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }
}

function colour(code: number, text: string): string {
  return `\x1b[${code}m${text}\x1b[0m`;
}
