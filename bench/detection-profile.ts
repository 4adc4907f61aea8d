/**
 * Where the detector's ONNX Runtime train step spends its time: ORT's own profiler (per node, summed by op
 * type) over a few steps of a random batch, for the bench's ResNet-18 + FPN detector.
 * usage: node --import tsx bench/detection-profile.ts [SIZE=256] [BATCH=8] [THREADS=1] [STEPS=3] [MODEL=resnet18] [NECK=fpn]
 */
import { initBackend } from '../src/ml/backend.ts';
import { anchorPoints, assignTargets, targetChannels } from '../src/ml/detection/assign.ts';
import { detectionTrainLoss } from '../src/ml/detection/detection-engine.ts';
import { buildDetector, pyramidLevels, type DetectorBackbone } from '../src/ml/detection/detector.ts';
import { defaultDetectionLoss } from '../src/ml/detection/loss.ts';
import { loadOnnxRuntime } from '../src/ml/onnx/runtime.ts';
import { nchwcBlockSize, OrtTrainer } from '../src/ml/onnx/training/ort-trainer.ts';
import { printOpTimes, profileNextSession } from './ort-profiler.ts';

const [size, batch, threads, steps] = [256, 8, 1, 3].map((d, i) => Number(process.argv[2 + i] ?? d));
const backbone = (process.argv[6] ?? 'resnet18') as DetectorBackbone;
const neck = (process.argv[7] ?? 'fpn') as 'fpn' | 'pan';
await initBackend('auto');
const classes = 3;
const model = buildDetector({ backbone, inputSize: size, channels: 3, classes, seed: 1, neck, neckChannels: 64, headConvs: 2 });
const points = anchorPoints(pyramidLevels(size));
const ort = (await loadOnnxRuntime())!;
await nchwcBlockSize(ort); // its probe session first, so that the profiler gets the trainer's
const profile = profileNextSession(ort, 'det-profile');
const trainer = await OrtTrainer.create(model, { loss: detectionTrainLoss(defaultDetectionLoss, points, classes), optimizer: { name: 'adam' }, threads, runtime: ort });
const x = Float32Array.from({ length: batch * size * size * 3 }, (_, i) => ((i * 2654435761) % 1000) / 1000);
const k = targetChannels(classes);
const y = new Float32Array(batch * points.count * k);
for (let i = 0; i < batch; i++) {
  const boxes = Array.from({ length: 20 }, (_, j) => ({ x_min: (j * 37) % (size - 40), y_min: (j * 53) % (size - 40), x_max: ((j * 37) % (size - 40)) + 12 + (j % 4) * 8, y_max: ((j * 53) % (size - 40)) + 12 + (j % 3) * 9, cls: j % classes }));
  assignTargets(points, boxes, classes, { radius: 1.5 }, y.subarray(i * points.count * k, (i + 1) * points.count * k));
}
await trainer.step(x, y, batch, 1e-3);
const started = performance.now();
for (let s = 0; s < steps; s++) await trainer.step(x, y, batch, 1e-3);
const ms = (performance.now() - started) / steps;
console.log(`${backbone}/${neck} ${size}px batch ${batch}, ${threads} thread(s): ${ms.toFixed(0)} ms/step = ${((batch * 1000) / ms).toFixed(2)} img/s`);
printOpTimes(await profile(), steps + 1, 20, Number(process.env.TOP_NODES ?? 25));
await trainer.dispose();
