// Training and inference throughput of the zoo on the pipeline's default engines: the train step
// executed by ONNX Runtime (src/ml/onnx/training), then inference of the trained model exported to ONNX
// (src/ml/inference); the same model, batch and loss as bench/train.ts. Prints one JSON line.
// RECIPE=vinbig-cls: experiments/vinbig-cls.yaml's training recipe instead of BCE (asymmetric loss 4/1/0.05,
// mixup 0.2 on every batch as the training loop does it, label smoothing 0.1), as bench/train.py.
// STEM=small|imagenet: the CNN stem (default: the zoo's imagenet).
// pool / infer_pool: how the sessions' pool threads waited (src/ml/onnx/pool-spin.ts, PIPELINE_ORT_SPIN).
// steps_per_run: optimizer steps per session.run (src/ml/onnx/training/steps-per-run.ts, PIPELINE_ORT_STEPS_PER_RUN).
// usage: ORT_THREADS=1 [RECIPE=vinbig-cls] [STEM=small] node --import tsx bench/train-ort.ts ARCH SIZE BATCH STEPS
import { availableParallelism } from 'node:os';
import * as tf from '../src/ml/tf.ts';
import { initBackend } from '../src/ml/backend.ts';
import { buildModel, type Architecture, type ModelSpec } from '../src/ml/models/index.ts';
import { createPredictor } from '../src/ml/inference/predictor.ts';
import { OrtTrainer, trainLossOf } from '../src/ml/onnx/training/ort-trainer.ts';
import { mixupBatch } from '../src/ml/training/batch-transforms.ts';
import { loadOnnxRuntime } from '../src/ml/onnx/runtime.ts';

const [arch, size, batch, steps] = [process.argv[2] as Architecture, Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5] ?? 5)];
const ort = await loadOnnxRuntime();
if (!ort) throw new Error('onnxruntime-node is not installed');
const version = ort.env.versions?.node ?? 'unknown';
const threads = Number(process.env.ORT_THREADS ?? availableParallelism());
await initBackend('auto'); // builds the model and its initial weights only
const stem = process.env.STEM === 'small' ? 'small' : 'imagenet';
const spec: ModelSpec = { arch, inputSize: size, channels: 1, classes: 4, task: 'multilabel', seed: 1, stem };
const model = buildModel(spec);
const x = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1).dataSync() as Float32Array;
const recipe = process.env.RECIPE ?? '';
if (recipe && recipe !== 'vinbig-cls') throw new Error(`RECIPE: vinbig-cls or nothing, got ${recipe}`);
const hard = Float32Array.from({ length: batch * 4 }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
const y = recipe ? hard.map((v) => v * 0.9 + 0.05) : hard; // label smoothing 0.1 (sigmoid targets)
const loss = recipe ? trainLossOf({ asl: { gamma_neg: 4, gamma_pos: 1, clip: 0.05 } }, 'multilabel') : trainLossOf('bce', 'multilabel');
const trainer = await OrtTrainer.create(model, { loss, optimizer: { name: 'adam' }, threads, runtime: ort });
let seed = 1;
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const xTensor = tf.tensor4d(x, [batch, size, size, 1]);
const yTensor = tf.tensor2d(y, [batch, 4]);
/** The batch of one step: as is, or mixed as the training loop mixes it (tfjs ops, then read back). */
const stepBatch = (): [Float32Array, Float32Array] => {
  if (!recipe) return [x, y];
  const mixed = mixupBatch(xTensor, yTensor, 0.2, random);
  const out: [Float32Array, Float32Array] = [mixed.x.dataSync() as Float32Array, mixed.y.dataSync() as Float32Array];
  tf.dispose([mixed.x, mixed.y]);
  return out;
};

// Steps in groups of the trainer's steps per run (steps-per-run.ts), as the training loop hands them over;
// the timed steps are rounded up to whole groups.
const perRun = trainer.stepsPerRun;
const group = () => Array.from({ length: perRun }, () => {
  const [xs, ys] = stepBatch();
  return { xs: [xs], y: ys };
});
await trainer.stepMany(group(), batch, 1e-3); // warm-up (session's first run allocates its arenas)
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const t = performance.now();
const c = cpuSeconds();
const runs = Math.ceil(steps / perRun);
for (let i = 0; i < runs; i++) await trainer.stepMany(group(), batch, 1e-3);
const trainPerSec = (runs * perRun * batch * 1000) / (performance.now() - t);
const trainPerCpuSec = (runs * perRun * batch) / (cpuSeconds() - c);
// Inference of the trained weights, exported to ONNX as the tta stage does (the pipeline's default engines).
trainer.writeToModel();
await trainer.dispose();
let inferPool: string | undefined;
const predictor = await createPredictor(model, { engine: 'onnxruntime', threads, log: (m) => (inferPool = /pool (.*)\)$/.exec(m)?.[1]) });
await predictor.predict(x, batch);
const ti = performance.now();
const ci = cpuSeconds();
for (let i = 0; i < steps; i++) await predictor.predict(x, batch);
const inferPerSec = (steps * batch * 1000) / (performance.now() - ti);
const inferPerCpuSec = (steps * batch) / (cpuSeconds() - ci);
await predictor.dispose();
console.log(JSON.stringify({ tool: `onnxruntime-${version.split('.').slice(0, 2).join('.')}-${threads}thr`, arch: arch + (recipe ? `+${recipe}` : '') + (stem === 'small' ? '+small-stem' : ''), size, batch, train: +trainPerSec.toFixed(2), infer: +inferPerSec.toFixed(2), train_cpu: +trainPerCpuSec.toFixed(2), infer_cpu: +inferPerCpuSec.toFixed(2), pool: trainer.pool ?? 'one thread', steps_per_run: perRun, infer_pool: inferPool ?? 'one thread' }));
