// What the ONNX Runtime sides of bench/anomaly.sh share: arguments, threads, the images, timing, the JSON line.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type * as tf from '../src/ml/tf.ts';
import { loadOnnxRuntime, type OnnxRuntime } from '../src/ml/onnx/runtime.ts';

export interface BenchArgs {
  size: number;
  batch: number;
  steps: number;
  width: number;
  bottleneck: number;
  threads: number;
  runtime: OnnxRuntime;
}

/** SIZE BATCH STEPS [WIDTH=0.5] [BOTTLENECK=16] from the command line, ORT_THREADS, and ONNX Runtime. */
export async function benchArgs(argv = process.argv.slice(2)): Promise<BenchArgs> {
  const [size, batch, steps, width, bottleneck] = [Number(argv[0]), Number(argv[1]), Number(argv[2] ?? 5), Number(argv[3] ?? 0.5), Number(argv[4] ?? 16)];
  if (![size, batch, steps, width, bottleneck].every((v) => v > 0)) throw new Error(`usage: SIZE BATCH STEPS [WIDTH=0.5] [BOTTLENECK=16], got ${argv.join(' ')}`);
  const runtime = await loadOnnxRuntime();
  if (!runtime) throw new Error('onnxruntime-node is not installed');
  return { size, batch, steps, width, bottleneck, threads: Number(process.env.ORT_THREADS ?? availableParallelism()), runtime };
}

/** Batches of `batch` NHWC images from the IMAGES file (bench/anomaly_images.py: N x size x size float32), or one uniform random batch without it. */
export function benchBatches({ size, batch }: Pick<BenchArgs, 'size' | 'batch'>, random: () => Float32Array): Float32Array[] {
  const path = process.env.IMAGES;
  if (!path) return [random()];
  const bytes = readFileSync(path);
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const per = batch * size * size;
  const n = Math.floor(all.length / per);
  if (n === 0) throw new Error(`${path}: ${all.length / (size * size)} images of ${size} px, fewer than a batch of ${batch}`);
  return Array.from({ length: n }, (_, i) => all.slice(i * per, (i + 1) * per));
}

export interface Rate {
  wall: number;
  cpu: number;
}

const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const round = (v: number) => Math.round(v * 10) / 10;

/** Images/s, wall and per CPU second of the process, of `count` calls step(x) over the batches (cycled), after `warmup` calls (a session's first runs allocate its arenas). */
export async function rate(step: (x: Float32Array) => Promise<unknown>, xs: readonly Float32Array[], batch: number, count: number, warmup = 1): Promise<Rate> {
  for (let i = 0; i < warmup; i++) await step(xs[i % xs.length]);
  const t = performance.now();
  const c = cpuSeconds();
  for (let i = 0; i < count; i++) await step(xs[(warmup + i) % xs.length]);
  return { wall: round((count * batch * 1000) / (performance.now() - t)), cpu: round((count * batch) / (cpuSeconds() - c)) };
}

/** Trainable values of a network (PyTorch's parameters: kernels, biases, batch-norm gamma and beta). */
export const parameterCount = (model: tf.LayersModel): number => model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b as number), 1), 0);

/** The JSON line bench/anomaly.sh compares with the PyTorch side's (bench/anomaly_bench.py `report`). */
export function report(args: BenchArgs, rates: Record<string, Rate>, params: Record<string, number>, extra: Record<string, unknown> = {}): void {
  const { size, batch, steps, width, bottleneck, threads } = args;
  console.log(JSON.stringify({ engine: 'onnxruntime', threads, size, batch, steps, width, bottleneck, images: process.env.IMAGES ? 'file' : 'random', ...extra, params, rates }));
}
