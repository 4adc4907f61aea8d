// Training and inference throughput of the zoo on the pipeline's default engines: the train step
// executed by ONNX Runtime (src/ml/onnx/training), then inference of the trained model exported to ONNX
// (src/ml/inference); the same model, batch and loss as bench/train.ts. Prints one JSON line.
// usage: ORT_THREADS=1 node --import tsx bench/train-ort.ts ARCH SIZE BATCH STEPS
import { availableParallelism } from 'node:os';
import * as tf from '../src/ml/tf.ts';
import { initBackend } from '../src/ml/backend.ts';
import { buildModel, type Architecture, type ModelSpec } from '../src/ml/models/index.ts';
import { createPredictor } from '../src/ml/inference/predictor.ts';
import { OrtTrainer } from '../src/ml/onnx/training/ort-trainer.ts';
import { loadOnnxRuntime } from '../src/ml/onnx/runtime.ts';

const [arch, size, batch, steps] = [process.argv[2] as Architecture, Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5] ?? 5)];
const ort = await loadOnnxRuntime();
if (!ort) throw new Error('onnxruntime-node is not installed');
const version = ort.env.versions?.node ?? 'unknown';
const threads = Number(process.env.ORT_THREADS ?? availableParallelism());
await initBackend('auto'); // builds the model and its initial weights only
const spec: ModelSpec = { arch, inputSize: size, channels: 1, classes: 4, task: 'multilabel', seed: 1 };
const model = buildModel(spec);
const x = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1).dataSync() as Float32Array;
const y = Float32Array.from({ length: batch * 4 }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
const trainer = await OrtTrainer.create(model, { loss: { kind: 'bce' }, optimizer: { name: 'adam' }, threads, runtime: ort });

await trainer.step(x, y, batch, 1e-3); // warm-up (session's first run allocates its arenas)
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const t = performance.now();
const c = cpuSeconds();
for (let i = 0; i < steps; i++) await trainer.step(x, y, batch, 1e-3);
const trainPerSec = (steps * batch * 1000) / (performance.now() - t);
const trainPerCpuSec = (steps * batch) / (cpuSeconds() - c);
// Inference of the trained weights, exported to ONNX as the tta stage does (the pipeline's default engines).
trainer.writeToModel();
await trainer.dispose();
const predictor = await createPredictor(model, { engine: 'onnxruntime', threads });
await predictor.predict(x, batch);
const ti = performance.now();
const ci = cpuSeconds();
for (let i = 0; i < steps; i++) await predictor.predict(x, batch);
const inferPerSec = (steps * batch * 1000) / (performance.now() - ti);
const inferPerCpuSec = (steps * batch) / (cpuSeconds() - ci);
await predictor.dispose();
console.log(JSON.stringify({ tool: `onnxruntime-${version.split('.').slice(0, 2).join('.')}-${threads}thr`, arch, size, batch, train: +trainPerSec.toFixed(2), infer: +inferPerSec.toFixed(2), train_cpu: +trainPerCpuSec.toFixed(2), infer_cpu: +inferPerCpuSec.toFixed(2) }));
