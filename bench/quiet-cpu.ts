/**
 * Waiting for a quiet moment on a shared machine: `waitForIdleCpus` returns once the other processes'
 * use of the CPUs (from /proc/stat, over `windowMs`) leaves at least `idleShare` of them idle, or after
 * `timeoutMs`. Benches that measure thread scaling call it before each timed step, so that a step with
 * 2 threads finds 2 free cores (a measurement while another job holds a core says nothing about scaling).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

function cpuTimes(): { idle: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + (fields[4] ?? 0);
  return { idle, total: fields.reduce((a, b) => a + b, 0) };
}

/** Resolves with the idle share seen last (1 = every CPU idle); gives up after `timeoutMs` (then returns what it saw). */
export async function waitForIdleCpus(idleShare = 0.9, windowMs = 300, timeoutMs = 60_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const a = cpuTimes();
    await sleep(windowMs);
    const b = cpuTimes();
    const share = (b.idle - a.idle) / Math.max(1, b.total - a.total);
    if (share >= idleShare || performance.now() - started > timeoutMs) return share;
  }
}
