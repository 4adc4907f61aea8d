// What it costs a training when its ORT pool changes between spinning and sleeping (src/ml/onnx/pool-respin.ts):
// the trainer moves to a new session over the same step graph. Per change: the new session's creation
// (`recheckPool`), and the first step on it (its arenas are allocated then) against the steady steps
// around it; the sum in steps, to weigh against what a pool on the wrong setting loses per step (6-16 %
// with another job on one of 2 cores, bench/results/train.md round 5). The free-CPU samples are
// scripted so that every second recheck changes the setting.
// resnet18: ResNet-18 128 px batch 32 (bench/train-ort.ts's step); fanogan: f-AnoGAN's WGAN as in
// experiments/nih-anomaly.yaml (64 px, width 0.5, bottleneck 16, batch 32: two step sessions move);
// resnet18-infer: the predictor of a `tta` stage (ResNet-18 128 px, batches of 32): the batch that
// takes the change (a new inference session, then the batch) against the batches around it.
// usage: ORT_THREADS=2 node --import tsx bench/respin.ts resnet18|fanogan|resnet18-infer [CHANGES]
import { availableParallelism } from 'node:os';
import * as tf from '../src/ml/tf.ts';
import { initBackend } from '../src/ml/backend.ts';
import { buildModel } from '../src/ml/models/index.ts';
import { buildFanogan } from '../src/ml/anomaly/fanogan.ts';
import { OrtGanTrainer } from '../src/ml/anomaly/gan-trainer-ort.ts';
import { PoolSpinGovernor } from '../src/ml/onnx/pool-respin.ts';
import { OrtTrainer, trainLossOf } from '../src/ml/onnx/training/ort-trainer.ts';
import { createPredictor } from '../src/ml/inference/predictor.ts';
import { loadOnnxRuntime } from '../src/ml/onnx/runtime.ts';

const [which, changes] = [process.argv[2], Number(process.argv[3] ?? 6)];
if (!['resnet18', 'fanogan', 'resnet18-infer'].includes(which)) throw new Error('usage: bench/respin.ts resnet18|fanogan|resnet18-infer [CHANGES]');
const ort = await loadOnnxRuntime();
if (!ort) throw new Error('onnxruntime-node is not installed');
const threads = Number(process.env.ORT_THREADS ?? availableParallelism());
if (threads < 2) throw new Error('ORT_THREADS: a pool needs 2 threads or more');
await initBackend('auto');

// 2 free at creation (spinning), then pairs of 0.5 (-> sleeping) and 2 (-> spinning)
const script = [2, ...Array.from({ length: changes }, (_, i) => (i % 2 === 0 ? [0.5, 0.5] : [2, 2])).flat()];
const governor = new PoolSpinGovernor(threads, 'auto', async () => script.shift() ?? 2);
const batch = 32;
const size = which === 'fanogan' ? 64 : 128;
const x = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1).dataSync() as Float32Array;
const y = Float32Array.from({ length: batch * 4 }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const round = (v: number) => Math.round(v * 10) / 10;
const timed = async <T>(f: () => Promise<T>): Promise<[number, T]> => {
  const t = performance.now();
  const value = await f();
  return [performance.now() - t, value];
};

if (which === 'resnet18-infer') {
  const logs: string[] = [];
  const model = buildModel({ arch: 'resnet18', inputSize: 128, channels: 1, classes: 4, task: 'multilabel', seed: 1 });
  const predictor = await createPredictor(model, { engine: 'onnxruntime', threads, governor, recheckMs: 0, log: (m) => logs.push(m) });
  await predictor.predict(x, batch);
  const [changed, other]: number[][] = [[], []];
  while (changed.length < changes) {
    const before = logs.length;
    const [ms] = await timed(() => predictor.predict(x, batch));
    (logs.length > before ? changed : other).push(ms);
  }
  await predictor.dispose();
  const extra = median(changed) - median(other);
  console.log(JSON.stringify({ model: which, threads, changes, batch_with_change_ms: changed.map(round), batch_ms: round(median(other)), change_costs_ms: round(extra), change_costs_batches: round(extra / median(other)) }));
  process.exit(0);
}

const created = performance.now();
const trainer =
  which === 'resnet18'
    ? await OrtTrainer.create(buildModel({ arch: 'resnet18', inputSize: 128, channels: 1, classes: 4, task: 'multilabel', seed: 1 }), { loss: trainLossOf('bce', 'multilabel'), optimizer: { name: 'adam' }, threads, runtime: ort, governor })
    : await OrtGanTrainer.create(buildFanogan({ inputSize: 64, channels: 1, seed: 1, width: 0.5, bottleneck: 16, kappa: 1 }), { nCritic: 5, lipschitz: 'spectral', clip: 0.01, seed: 1 }, ort, threads, governor);
const setupMs = performance.now() - created;

const step = () => trainer.step(x, y, batch, 1e-4);
await step();
await step(); // the initial session's arenas
const [create, first, steady]: number[][] = [[], [], []];
for (let i = 0; i < changes; i++) {
  for (let s = 0; s < 3; s++) steady.push((await timed(step))[0]);
  const none = await trainer.recheckPool!();
  if (none) throw new Error(`the first sample of a pair changed the pool: ${none}`);
  const [ms, change] = await timed(() => trainer.recheckPool!());
  if (!change) throw new Error('the second sample of a pair did not change the pool');
  create.push(ms);
  first.push((await timed(step))[0]);
}
await trainer.dispose();

const extra = median(create) + median(first) - median(steady);
console.log(
  JSON.stringify({
    model: which,
    threads,
    changes,
    setup_ms: round(setupMs),
    create_ms: create.map(round),
    first_step_ms: first.map(round),
    steady_step_ms: round(median(steady)),
    change_costs_ms: round(extra),
    change_costs_steps: round(extra / median(steady)),
  }),
);
