import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/open.ts';
import type { StageRegistry } from './stage-registry.ts';
import { createStageContext } from './context.ts';
import type { FromWorker, StageWorkerData, ToWorker } from './stage-worker-protocol.ts';
import { errorText } from '../util/error-text.ts';

/** Runs one stage instance in this worker thread and reports events, then the draft, to the parent. */
const data = workerData as StageWorkerData;
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);
const controller = new AbortController();
port.on('message', (m: ToWorker) => {
  if (m.type === 'abort') controller.abort(new Error(m.reason));
});

const store = await openStore(data.store);
const ctx = createStageContext({
  store,
  runId: data.runId,
  instance: data.instance,
  stageVersion: data.stageVersion,
  params: data.params,
  baseDir: data.baseDir,
  signal: controller.signal,
  concurrency: data.concurrency,
  forced: data.forced,
  emit: (event) => send({ type: 'event', event }),
});
try {
  const registry = (await import(data.registry)).stageRegistry as StageRegistry;
  const { type } = await registry.resolve(data.uses, data.baseDir, data.codeHash);
  const draft = await type.run(ctx, data.inputs, data.params);
  send({ type: 'done', draft, itemKeys: [...ctx.itemKeys], items: ctx.items });
} catch (err) {
  const e = err instanceof Error ? err : new Error(errorText(err));
  send({ type: 'error', error: { name: e.name, message: e.message, hint: (e as { hint?: string }).hint, stack: e.stack } });
} finally {
  await ctx.dispose();
  await store.close();
  port.close();
}
