import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlainReporter } from '../../../src/cli/reporters/plain.ts';
import type { ItemCounts } from '../../../src/engine/events.ts';

const t0 = Date.UTC(2026, 0, 1, 10, 0, 0);
const counts = (done: number, total: number, extra: Partial<ItemCounts> = {}): ItemCounts => ({ done, total, cached: 0, failed: 0, ...extra });

test('--plain prints a progress line once when the same counts arrive again', () => {
  const lines: string[] = [];
  const reporter = new PlainReporter((l) => lines.push(l));
  reporter.handle({ type: 'instance-start', runId: 'r', instance: 'convert', stage: 'convert', uses: 'convert', params: {}, cacheKey: 'k', time: t0 });
  for (const [dt, items] of [[0, counts(0, 19)], [6000, counts(12, 19)], [7000, counts(19, 19)], [7001, counts(19, 19)]] as const) {
    reporter.handle({ type: 'progress', runId: 'r', instance: 'convert', items, time: t0 + dt });
  }
  reporter.handle({ type: 'progress', runId: 'r', instance: 'convert', items: counts(19, 19, { failed: 1 }), time: t0 + 7002 });
  reporter.handle({ type: 'instance-end', runId: 'r', instance: 'convert', stage: 'convert', uses: 'convert', params: {}, status: 'ran', durationMs: 7100, items: counts(19, 19, { failed: 1 }), time: t0 + 7100 });
  const progress = lines.filter((l) => /convert: \d+\/19/.test(l)).map((l) => l.slice(9));
  assert.deepEqual(progress, ['convert: 0/19', 'convert: 12/19, 2.0/s, ETA 3.5s', 'convert: 19/19, 2.7/s, ETA 0ms', 'convert: 19/19 (1 failed), 2.7/s, ETA 0ms']);
  assert.match(lines.at(-1)!, /convert: ran in 7\.1s \(19\/19 \(1 failed\)\)$/);
});
