/**
 * Where the ONNX Runtime train step loses its 1 -> 2 thread speed-up: the same step graph in two
 * sessions (1 and 2 intra-op threads), their steps alternating, ORT's profiler on both; per op type and
 * per node the kernel time at 1 and at 2 threads (each node's fastest of the steps, which filters out
 * the steps where another process held a core) and the speed-up, the nodes sorted by the time they
 * lose against a perfect halving (t2 - t1 / 2), and the wall time of a step beside its kernel sum (the
 * rest is the session's own work: allocating and copying outputs, scheduling).
 * QUIET=0.9: before each pair of steps, wait (up to a minute) until that share of the CPUs is idle.
 * usage: [QUIET=0.9] node --import tsx bench/train-ort-scaling.ts [ARCH=resnet18] [SIZE=128] [BATCH=32] [STEPS=3]
 */
import { initBackend } from '../src/ml/backend.ts';
import { buildModel, type Architecture } from '../src/ml/models/index.ts';
import { loadOnnxRuntime } from '../src/ml/onnx/runtime.ts';
import { nchwcBlockSize, OrtTrainer, trainLossOf } from '../src/ml/onnx/training/ort-trainer.ts';
import { profileNextSession, type OpTimes } from './ort-profiler.ts';
import { waitForIdleCpus } from './quiet-cpu.ts';

const arch = (process.argv[2] ?? 'resnet18') as Architecture;
const [size, batch, steps] = [128, 32, 3].map((d, i) => Number(process.argv[3 + i] ?? d));
await initBackend('auto');
const model = buildModel({ arch, inputSize: size, channels: 1, classes: 4, task: 'multilabel', seed: 1 });
const ort = (await loadOnnxRuntime())!;
await nchwcBlockSize(ort); // its probe session first, so that the profiler gets the trainer's
const x = Float32Array.from({ length: batch * size * size }, (_, i) => ((i * 2654435761) % 1000) / 1000);
const y = Float32Array.from({ length: batch * 4 }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
const runs = [1, 2].map(() => ({ trainer: undefined as OrtTrainer | undefined, read: undefined as ((skipRuns: number) => Promise<OpTimes>) | undefined, wall: [] as number[] }));
for (const [i, threads] of [1, 2].entries()) {
  runs[i].read = profileNextSession(ort, `train-scaling-${threads}`);
  runs[i].trainer = await OrtTrainer.create(model, { loss: trainLossOf('bce', 'multilabel'), optimizer: { name: 'adam' }, threads, runtime: ort });
  await runs[i].trainer!.step(x, y, batch, 1e-3); // warm-up: the first run allocates the arenas
}
for (let s = 0; s < steps; s++) {
  if (process.env.QUIET) await waitForIdleCpus(Number(process.env.QUIET));
  for (const run of runs) {
    const started = performance.now();
    await run.trainer!.step(x, y, batch, 1e-3);
    run.wall.push(performance.now() - started);
  }
}
const [one, two] = await Promise.all(runs.map((r) => r.read!(1)));
const fastest = (t: OpTimes, node: string) => Math.min(...(t.byNode.get(node)?.samples ?? [0])) / 1000;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const kernels = (t: OpTimes) => [...t.byNode.keys()].reduce((a, n) => a + fastest(t, n), 0);
const fmt = (ms: number) => ms.toFixed(1).padStart(8);
console.log(`${arch} ${size}px batch ${batch}, ${steps} steps each after a warm-up, alternating; ms per step`);
console.log(`wall (median): 1 thread ${fmt(median(runs[0].wall))}, 2 threads ${fmt(median(runs[1].wall))}, speed-up ${(median(runs[0].wall) / median(runs[1].wall)).toFixed(2)}x`);
console.log(`session run (median): 1 thread ${fmt(median(one.runs) / 1000)}, 2 threads ${fmt(median(two.runs) / 1000)}`);
console.log(`kernel sum (fastest per node): 1 thread ${fmt(kernels(one))}, 2 threads ${fmt(kernels(two))}, speed-up ${(kernels(one) / kernels(two)).toFixed(2)}x`);
const table = (rows: [string, number, number][], title: string, top: number) => {
  console.log(`\n${title}\n${'name'.padEnd(44)}   1 thr   2 thr  speed-up  lost (t2 - t1/2)`);
  for (const [name, t1, t2] of rows.sort((a, b) => b[2] - b[1] / 2 - (a[2] - a[1] / 2)).slice(0, top)) console.log(`${name.slice(0, 44).padEnd(44)} ${fmt(t1)} ${fmt(t2)} ${(t1 / t2).toFixed(2).padStart(8)}x ${fmt(t2 - t1 / 2)}`);
};
const names = [...new Set([...one.byNode.keys(), ...two.byNode.keys()])];
const opOf = (n: string) => (one.byNode.get(n) ?? two.byNode.get(n))!.op;
const ops = new Map<string, [string, number, number]>();
for (const n of names) {
  const row = ops.get(opOf(n)) ?? ops.set(opOf(n), [opOf(n), 0, 0]).get(opOf(n))!;
  row[1] += fastest(one, n);
  row[2] += fastest(two, n);
}
table([...ops.values()], 'per op type (sum of its nodes)', 30);
table(names.map((n): [string, number, number] => [`${opOf(n)} ${n}`, fastest(one, n), fastest(two, n)]), 'per node', Number(process.env.TOP_NODES ?? 40));
for (const run of runs) await run.trainer!.dispose();
