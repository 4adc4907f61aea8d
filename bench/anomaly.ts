// Training and scoring throughput of the anomaly autoencoder (task: anomaly) on the pipeline's default
// engines: the train step (reconstruction MSE, Adam) as one ONNX Runtime graph, then scoring by the exported
// score model; the same network, batch and loss as bench/anomaly_torch.py. Prints one JSON line.
// usage: ORT_THREADS=1 node --import tsx bench/anomaly.ts SIZE BATCH STEPS [WIDTH=0.5] [BOTTLENECK=16]
import { availableParallelism } from 'node:os';
import * as tf from '../src/ml/tf.ts';
import { initBackend } from '../src/ml/backend.ts';
import { buildAutoencoder, buildScoreModel } from '../src/ml/anomaly/autoencoder.ts';
import { reconstructionTrainLoss } from '../src/ml/anomaly/anomaly-engine.ts';
import { createPredictor } from '../src/ml/inference/predictor.ts';
import { loadOnnxRuntime } from '../src/ml/onnx/runtime.ts';
import { OrtTrainer } from '../src/ml/onnx/training/ort-trainer.ts';

const [size, batch, steps, width, bottleneck] = [Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4] ?? 5), Number(process.argv[5] ?? 0.5), Number(process.argv[6] ?? 16)];
const ort = await loadOnnxRuntime();
if (!ort) throw new Error('onnxruntime-node is not installed');
const threads = Number(process.env.ORT_THREADS ?? availableParallelism());
await initBackend('auto'); // builds the model and its initial weights only
const model = buildAutoencoder({ inputSize: size, channels: 1, seed: 1, width, bottleneck });
const x = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1).dataSync() as Float32Array;
const trainer = await OrtTrainer.create(model, { loss: reconstructionTrainLoss(size * size), optimizer: { name: 'adam' }, threads, runtime: ort });
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
await trainer.step(x, x, batch, 1e-3); // warm-up (the session's first run allocates its arenas)
const t = performance.now();
const c = cpuSeconds();
for (let i = 0; i < steps; i++) await trainer.step(x, x, batch, 1e-3);
const trainPerSec = (steps * batch * 1000) / (performance.now() - t);
const trainPerCpuSec = (steps * batch) / (cpuSeconds() - c);
trainer.writeToModel();
await trainer.dispose();
const predictor = await createPredictor(buildScoreModel(model), { engine: 'onnxruntime', threads });
await predictor.predict(x, batch);
const ti = performance.now();
const ci = cpuSeconds();
for (let i = 0; i < steps; i++) await predictor.predict(x, batch);
const inferPerSec = (steps * batch * 1000) / (performance.now() - ti);
const inferPerCpuSec = (steps * batch) / (cpuSeconds() - ci);
await predictor.dispose();
const round = (v: number) => Math.round(v * 10) / 10;
console.log(JSON.stringify({ engine: 'onnxruntime', threads, size, batch, steps, width, bottleneck, train: round(trainPerSec), train_cpu: round(trainPerCpuSec), infer: round(inferPerSec), infer_cpu: round(inferPerCpuSec) }));
