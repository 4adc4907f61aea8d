// Training and inference throughput of the tfjs zoo on the pipeline's backend (wasm + our gradient
// kernels unless tfjs-node is installed). Prints one JSON line per config. Run by bench/train.sh.
// Inference runs on INFER_ENGINE (tfjs, the default, or onnxruntime: the model exported to ONNX) with
// INFER_THREADS ONNX Runtime threads (default: every core).
// usage: [INFER_ENGINE=onnxruntime INFER_THREADS=1] node --import tsx bench/train.ts ARCH SIZE BATCH STEPS
import { availableParallelism } from 'node:os';
import * as tf from '../src/ml/tf.ts';
import { initBackend } from '../src/ml/backend.ts';
import { createPredictor } from '../src/ml/inference/predictor.ts';
import { binaryCrossEntropy } from '../src/ml/losses/index.ts';
import { buildModel, type Architecture, type ModelSpec } from '../src/ml/models/index.ts';
import { DataParallel } from '../src/ml/parallel/data-parallel.ts';

const [arch, size, batch, steps] = [process.argv[2] as Architecture, Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5] ?? 5)];
const backend = await initBackend((process.env.PIPELINE_TF_BACKEND as 'wasm' | undefined) ?? 'auto');
const workers = Number(process.env.TRAIN_WORKERS ?? 1);
const spec: ModelSpec = { arch, inputSize: size, channels: 1, classes: 4, task: 'multilabel', seed: 1 };
const model = buildModel(spec);
const parallel = workers > 1 ? await DataParallel.start(workers - 1, 'auto', spec, 'bce') : undefined;
const optimizer = tf.train.adam(1e-3);
const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
const x = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
const y = tf.tensor2d(Array.from({ length: batch * 4 }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0), [batch, 4]);
const loss = binaryCrossEntropy();
const step = async () => (parallel ? parallel.step(model, optimizer, loss, x, y) : tf.tidy(() => optimizer.minimize(() => loss(y, model.apply(x, { training: true }) as tf.Tensor2D), true, vars)!.dataSync()[0]));
const inferEngine = (process.env.INFER_ENGINE ?? 'tfjs') as 'tfjs' | 'onnxruntime';
const inferThreads = process.env.INFER_THREADS ? Number(process.env.INFER_THREADS) : undefined;
if (!['tfjs', 'onnxruntime'].includes(inferEngine)) throw new Error(`INFER_ENGINE must be tfjs or onnxruntime, got ${inferEngine}`);
const pixels = x.dataSync() as Float32Array;

await step(); // warm-up (operator creation, memory growth, workers' first step)
// Images per wall-clock second, and per CPU second of this process (user + system; steadier than wall
// time on a shared machine, where other jobs take the cores; with worker threads it counts them too).
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
let t = performance.now();
let c = cpuSeconds();
for (let i = 0; i < steps; i++) await step();
const trainPerSec = (steps * batch * 1000) / (performance.now() - t);
const trainPerCpuSec = (steps * batch) / (cpuSeconds() - c);
// Exported after the training steps, so ONNX Runtime runs the trained weights (and batch-norm statistics).
const predictor = await createPredictor(model, { engine: inferEngine, threads: inferThreads, log: (m) => console.error(m) });
const predict = () => predictor.predict(pixels, batch);
await predict();
t = performance.now();
c = cpuSeconds();
for (let i = 0; i < steps; i++) await predict();
const inferPerSec = (steps * batch * 1000) / (performance.now() - t);
const inferPerCpuSec = (steps * batch) / (cpuSeconds() - c);
await parallel?.stop();
await predictor.dispose();
const onnxThreads = inferThreads ?? availableParallelism();
const inferTool = inferEngine === 'onnxruntime' ? `+onnxruntime-${onnxThreads}thread${onnxThreads === 1 ? '' : 's'}` : '';
console.log(JSON.stringify({ tool: `tfjs-${backend}${workers > 1 ? `-${workers}threads` : ''}${inferTool}`, arch, size, batch, train: +trainPerSec.toFixed(2), infer: +inferPerSec.toFixed(2), train_cpu: +trainPerCpuSec.toFixed(2), infer_cpu: +inferPerCpuSec.toFixed(2) }));
