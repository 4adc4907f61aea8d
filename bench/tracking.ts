/**
 * Tracking overhead: the pipeline tracker (batched runs/log-batch, background queue) against what a
 * hand-written client or `mlflow.log_metric`/`log_param` do (one synchronous request per metric and
 * param), on the same data and the same local MLflow protocol double, side by side.
 * Data: 1 parent + 5 fold runs x 30 epochs x 20 metrics (3000 metrics) + 5 x 40 params.
 */
import { request } from 'undici';
import { createTracker } from '../src/tracking/index.ts';
import { tempStore } from '../src/testing/harness.ts';
import type { PipelineEvent } from '../src/engine/events.ts';
import { MlflowDouble } from '../test/support/mlflow-double.ts';

const FOLDS = 5;
const EPOCHS = 30;
const METRICS = 20;
const PARAMS = 40;

const params = Object.fromEntries(Array.from({ length: PARAMS }, (_, i) => [`p${i}`, i]));

function events(runId: string): PipelineEvent[] {
  const out: PipelineEvent[] = [];
  let t = Date.now();
  out.push({ type: 'run-start', runId, experiment: 'bench', file: 'bench.yaml', instances: [], params: {}, time: t });
  for (let f = 0; f < FOLDS; f++) {
    const instance = `train[fold=${f}]`;
    out.push({ type: 'instance-start', runId, instance, stage: 'train', uses: 'train', params: { ...params, fold: f }, cacheKey: 'k', time: t });
    for (let e = 0; e < EPOCHS; e++) for (let m = 0; m < METRICS; m++) out.push({ type: 'metric', runId, instance, name: `m${m}`, value: Math.random(), step: e, time: ++t });
    out.push({ type: 'instance-end', runId, instance, stage: 'train', uses: 'train', params: { ...params, fold: f }, status: 'ran', durationMs: 1, time: ++t });
  }
  out.push({ type: 'run-end', runId, status: 'succeeded', durationMs: 1, time: ++t });
  return out;
}

async function ours(url: string): Promise<number> {
  const store = await tempStore();
  const t0 = performance.now();
  const sink = await createTracker({ config: { experiment: 'bench-ours' }, store, experimentName: 'bench', experimentFile: 'bench.yaml', log: () => {}, env: { MLFLOW_TRACKING_URI: url } });
  for (const e of events(`ours-${Date.now()}`)) sink.handle(e);
  await sink.close?.();
  return performance.now() - t0;
}

async function post(url: string, endpoint: string, body: unknown): Promise<any> {
  const res = await request(`${url}/api/2.0/mlflow/${endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.body.json();
  if (res.statusCode !== 200) throw new Error(JSON.stringify(json));
  return json;
}

/** One request per metric and param, as `mlflow.log_metric` / `mlflow.log_param` do. */
async function perCall(url: string): Promise<number> {
  const t0 = performance.now();
  const { experiment_id } = await post(url, 'experiments/create', { name: `bench-naive-${Date.now()}` });
  const parent = (await post(url, 'runs/create', { experiment_id, start_time: Date.now(), run_name: 'naive' })).run.info.run_id;
  for (let f = 0; f < FOLDS; f++) {
    const child = (await post(url, 'runs/create', { experiment_id, start_time: Date.now(), run_name: `train[fold=${f}]`, tags: [{ key: 'mlflow.parentRunId', value: parent }] })).run.info.run_id;
    for (const [k, v] of Object.entries({ ...params, fold: f })) await post(url, 'runs/log-parameter', { run_id: child, key: `with.${k}`, value: String(v) });
    for (let e = 0; e < EPOCHS; e++) for (let m = 0; m < METRICS; m++) await post(url, 'runs/log-metric', { run_id: child, key: `m${m}`, value: Math.random(), timestamp: Date.now(), step: e });
    await post(url, 'runs/update', { run_id: child, status: 'FINISHED', end_time: Date.now() });
  }
  await post(url, 'runs/update', { run_id: parent, status: 'FINISHED', end_time: Date.now() });
  return performance.now() - t0;
}

const double = await new MlflowDouble().start();
try {
  await ours(double.url); // warm-up (module loading, connection)
  await perCall(double.url);
  const reps = 3;
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < reps; i++) {
    let n = double.received.length;
    a.push(await ours(double.url));
    const reqOurs = double.received.length - n;
    n = double.received.length;
    b.push(await perCall(double.url));
    const reqNaive = double.received.length - n;
    if (i === 0) console.log(`requests per run: pipeline tracker ${reqOurs}, one-per-call ${reqNaive}`);
  }
  const median = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)];
  const ma = median(a);
  const mb = median(b);
  console.log(`data: ${FOLDS} runs x ${EPOCHS} epochs x ${METRICS} metrics = ${FOLDS * EPOCHS * METRICS} metrics, ${FOLDS * (PARAMS + 1)} params`);
  console.log(`pipeline tracker (log-batch, background queue): median ${ma.toFixed(0)} ms over ${reps} runs`);
  console.log(`one request per metric/param (mlflow.log_metric style): median ${mb.toFixed(0)} ms over ${reps} runs`);
  console.log(`ratio: ${(mb / ma).toFixed(1)}x faster`);
} finally {
  await double.stop();
}
