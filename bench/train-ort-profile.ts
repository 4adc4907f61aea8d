/**
 * Where a classifier's ONNX Runtime train step spends its time (bench/train-ort.ts's model, batch and BCE +
 * Adam): ORT's profiler per op type and per node over a few steps of a random batch.
 * usage: node --import tsx bench/train-ort-profile.ts [ARCH=resnet18] [SIZE=128] [BATCH=32] [THREADS=1] [STEPS=3]
 */
import { initBackend } from '../src/ml/backend.ts';
import { buildModel, type Architecture } from '../src/ml/models/index.ts';
import { loadOnnxRuntime } from '../src/ml/onnx/runtime.ts';
import { nchwcBlockSize, OrtTrainer, trainLossOf } from '../src/ml/onnx/training/ort-trainer.ts';
import { printOpTimes, profileNextSession } from './ort-profiler.ts';

const arch = (process.argv[2] ?? 'resnet18') as Architecture;
const [size, batch, threads, steps] = [128, 32, 1, 3].map((d, i) => Number(process.argv[3 + i] ?? d));
await initBackend('auto');
const model = buildModel({ arch, inputSize: size, channels: 1, classes: 4, task: 'multilabel', seed: 1 });
const ort = (await loadOnnxRuntime())!;
await nchwcBlockSize(ort); // its probe session first, so that the profiler gets the trainer's
const profile = profileNextSession(ort, 'train-profile');
const trainer = await OrtTrainer.create(model, { loss: trainLossOf('bce', 'multilabel'), optimizer: { name: 'adam' }, threads, runtime: ort });
const x = Float32Array.from({ length: batch * size * size }, (_, i) => ((i * 2654435761) % 1000) / 1000);
const y = Float32Array.from({ length: batch * 4 }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
await trainer.step(x, y, batch, 1e-3);
const started = performance.now();
for (let s = 0; s < steps; s++) await trainer.step(x, y, batch, 1e-3);
const ms = (performance.now() - started) / steps;
console.log(`${arch} ${size}px batch ${batch}, ${threads} thread(s), ${trainer.graph.nodeCount} nodes: ${ms.toFixed(0)} ms/step = ${((batch * 1000) / ms).toFixed(2)} img/s (profiled)`);
printOpTimes(await profile(), steps + 1, 25, Number(process.env.TOP_NODES ?? 30));
await trainer.dispose();
