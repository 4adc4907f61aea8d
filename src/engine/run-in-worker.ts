import { Worker } from 'node:worker_threads';
import type { ArtifactDraft } from './artifact.ts';
import type { ItemCounts, PipelineEvent } from './events.ts';
import { StageInputError } from './stage.ts';
import type { FromWorker, StageWorkerData, ToWorker } from './stage-worker-protocol.ts';

export interface WorkerRunResult {
  draft: ArtifactDraft;
  itemKeys: string[];
  items?: ItemCounts;
}

/**
 * Runs a stage instance in its own worker thread, so that CPU-bound JavaScript/wasm stages (training)
 * that run at the same time use separate cores instead of sharing the main thread. Events are
 * forwarded to `emit`; `env` adds to the worker's environment (its share of the cores); aborting `signal` asks the worker to stop (and terminates it if it does not).
 */
export function runStageInWorker(data: StageWorkerData, emit: (e: PipelineEvent) => void, signal: AbortSignal, env: Record<string, string> = {}): Promise<WorkerRunResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./stage-worker-entry.mjs', import.meta.url), { workerData: data, env: { ...process.env, ...env } });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => {
      worker.postMessage({ type: 'abort', reason: String((signal.reason as Error)?.message ?? 'cancelled') } satisfies ToWorker);
      setTimeout(() => void worker.terminate(), 5000).unref();
    };
    signal.addEventListener('abort', onAbort);
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'event') emit(m.event);
      else if (m.type === 'done') finish(() => resolve({ draft: m.draft, itemKeys: m.itemKeys, items: m.items }));
      else {
        const err = m.error.name === 'StageInputError' ? new StageInputError(m.error.message, m.error.hint) : Object.assign(new Error(m.error.message), { name: m.error.name });
        if (m.error.stack) err.stack = m.error.stack;
        finish(() => reject(err));
      }
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(signal.aborted ? (signal.reason ?? new Error('cancelled')) : new Error(`stage worker exited with code ${code} before finishing`))));
  });
}
