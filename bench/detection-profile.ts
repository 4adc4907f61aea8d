/**
 * Where the detector's ONNX Runtime train step spends its time: ORT's own profiler (per node, summed by op
 * type) over a few steps of a random batch, for the bench's ResNet-18 + FPN detector.
 * usage: node --import tsx bench/detection-profile.ts [SIZE=256] [BATCH=8] [THREADS=1] [STEPS=3] [MODEL=resnet18] [NECK=fpn]
 */
import { readFile, rm } from 'node:fs/promises';
import { initBackend } from '../src/ml/backend.ts';
import { anchorPoints, assignTargets, targetChannels } from '../src/ml/detection/assign.ts';
import { detectionTrainLoss } from '../src/ml/detection/detection-engine.ts';
import { buildDetector, pyramidLevels, type DetectorBackbone } from '../src/ml/detection/detector.ts';
import { defaultDetectionLoss } from '../src/ml/detection/loss.ts';
import { loadOnnxRuntime } from '../src/ml/onnx/runtime.ts';
import { OrtTrainer } from '../src/ml/onnx/training/ort-trainer.ts';

const [size, batch, threads, steps] = [256, 8, 1, 3].map((d, i) => Number(process.argv[2 + i] ?? d));
const backbone = (process.argv[6] ?? 'resnet18') as DetectorBackbone;
const neck = (process.argv[7] ?? 'fpn') as 'fpn' | 'pan';
await initBackend('auto');
const classes = 3;
const model = buildDetector({ backbone, inputSize: size, channels: 3, classes, seed: 1, neck, neckChannels: 64, headConvs: 2 });
const points = anchorPoints(pyramidLevels(size));
const ort = (await loadOnnxRuntime())!;
const create = ort.InferenceSession.create.bind(ort.InferenceSession);
let profiled: { endProfiling(): string | Promise<string> } | undefined;
(ort.InferenceSession as { create: unknown }).create = async (bytes: Uint8Array, options: object) => {
  const s = await create(bytes, { ...options, enableProfiling: true, profileFilePrefix: '/tmp/det-profile' } as never);
  profiled = s as unknown as { endProfiling(): string | Promise<string> };
  return s;
};
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
const file = (await profiled!.endProfiling()) ?? (await latestProfile());
const events = JSON.parse(await readFile(file, 'utf8')) as Array<{ cat: string; name: string; dur: number; args?: { op_name?: string } }>;
await rm(file);
const byOp = new Map<string, number>();
for (const e of events) if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) byOp.set(e.args?.op_name ?? '?', (byOp.get(e.args?.op_name ?? '?') ?? 0) + e.dur);
const total = [...byOp.values()].reduce((a, b) => a + b, 0);
for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${op.padEnd(28)} ${(us / 1000 / (steps + 1)).toFixed(1).padStart(9)} ms/step ${((100 * us) / total).toFixed(1).padStart(5)}%`);
const byNode = new Map<string, { op: string; us: number }>();
for (const e of events) if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) {
  const name = e.name.replace(/_kernel_time$/, '');
  byNode.set(name, { op: e.args?.op_name ?? '?', us: (byNode.get(name)?.us ?? 0) + e.dur });
}
console.log('slowest nodes:');
for (const [name, { op, us }] of [...byNode].sort((a, b) => b[1].us - a[1].us).slice(0, Number(process.env.TOP_NODES ?? 25))) console.log(`${op.padEnd(16)} ${(us / 1000 / (steps + 1)).toFixed(1).padStart(9)} ms/step  ${name}`);
await trainer.dispose();

/** onnxruntime-node's endProfiling returns nothing in some versions: the newest profile file then. */
async function latestProfile(): Promise<string> {
  const { readdir, stat } = await import('node:fs/promises');
  const files = (await readdir('/tmp')).filter((f) => f.startsWith('det-profile')).map((f) => `/tmp/${f}`);
  const times = await Promise.all(files.map(async (f) => (await stat(f)).mtimeMs));
  return files[times.indexOf(Math.max(...times))];
}
