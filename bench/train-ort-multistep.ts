/**
 * K optimizer steps per `session.run` (OrtTrainer.stepMany, multi-step-graph.ts) against one step per run:
 * one trainer, one session per K, runs alternating between the Ks so that load hits each alike; per K the
 * median wall and CPU ms per optimizer step and img/s. First it checks the results: K single steps and
 * one run of K steps from the same start on the same batches must give the same parameters, optimizer
 * state and losses (reports the largest difference; 0 expected).
 * usage: [KS=1,2,4] node --import tsx bench/train-ort-multistep.ts [ARCH=resnet18] [SIZE=128] [BATCH=32] [THREADS=2] [ROUNDS=4]
 */
import { initBackend } from '../src/ml/backend.ts';
import { buildModel, type Architecture } from '../src/ml/models/index.ts';
import { loadOnnxRuntime } from '../src/ml/onnx/runtime.ts';
import { OrtTrainer, trainLossOf, type StepBatch } from '../src/ml/onnx/training/ort-trainer.ts';

const arch = (process.argv[2] ?? 'resnet18') as Architecture;
const [size, batch, threads, rounds] = [128, 32, 2, 4].map((d, i) => Number(process.argv[3 + i] ?? d));
const ks = (process.env.KS ?? '1,2,4').split(',').map(Number);

await initBackend('auto');
const model = buildModel({ arch, inputSize: size, channels: 1, classes: 4, task: 'multilabel', seed: 1 });
const ort = (await loadOnnxRuntime())!;
const options = { loss: trainLossOf('bce', 'multilabel'), optimizer: { name: 'adam' as const }, threads, runtime: ort };
/** Step i's batch: a hash pattern shifted by i (distinct batches, no RNG cost in the timed loop). */
const batchOf = (i: number): StepBatch => ({
  xs: [Float32Array.from({ length: batch * size * size }, (_, j) => (((j + 7919 * i) * 2654435761) % 1000) / 1000)],
  y: Float32Array.from({ length: batch * 4 }, (_, j) => ((j * 7 + i) % 3 === 0 ? 1 : 0)),
});
const maxK = Math.max(...ks);
const batches = Array.from({ length: maxK }, (_, i) => batchOf(i));

// Same results: maxK single steps vs one run of maxK steps, from the model's weights.
const single = await OrtTrainer.create(model, options);
const singleLosses: number[] = [];
for (const b of batches) singleLosses.push(await single.stepOn(b.xs, batch, 1e-3, b.y));
const multi = await OrtTrainer.create(model, options);
const multiLosses = await multi.stepMany(batches, batch, 1e-3);
const stateOf = (t: OrtTrainer) => t.getOptimizerWeights().map((w) => w.tensor.dataSync() as Float32Array);
const maxDiff = (a: ArrayLike<number>[], b: ArrayLike<number>[]) => {
  let max = 0;
  a.forEach((v, i) => {
    for (let j = 0; j < v.length; j++) max = Math.max(max, Math.abs(v[j] - b[i][j]));
  });
  return max;
};
const params = maxDiff(single.paramChunks().map((c) => c.data as Float32Array), multi.paramChunks().map((c) => c.data as Float32Array));
console.log(`${maxK} single steps vs one run of ${maxK}: max |diff| params ${params}, optimizer state ${maxDiff(stateOf(single), stateOf(multi))}, losses ${maxDiff([singleLosses], [multiLosses])} (${singleLosses.map((l) => l.toFixed(5)).join(' ')})`);
await single.dispose();

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const runs = ks.map((k) => ({ k, wall: [] as number[], cpu: [] as number[] }));
const created = performance.now();
for (const k of ks) await multi.stepMany(batches.slice(0, k), batch, 1e-3); // sessions and arenas
console.log(`sessions for K = ${ks.join(', ')} and their first runs: ${((performance.now() - created) / 1000).toFixed(1)} s`);
for (let r = 0; r < rounds; r++) {
  for (const run of runs) {
    const [t, c] = [performance.now(), cpuMs()];
    await multi.stepMany(batches.slice(0, run.k), batch, 1e-3);
    run.wall.push((performance.now() - t) / run.k);
    run.cpu.push((cpuMs() - c) / run.k);
  }
}
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const base = median(runs[0].wall);
console.log(`${arch} ${size}px batch ${batch}, ${threads} thread(s), ${rounds} alternating runs per K, ms per optimizer step (median):`);
for (const run of runs) console.log(`K=${String(run.k).padEnd(3)} wall ${median(run.wall).toFixed(0).padStart(6)} (min ${Math.min(...run.wall).toFixed(0)})  cpu ${median(run.cpu).toFixed(0).padStart(6)}  img/s ${((batch * 1000) / median(run.wall)).toFixed(2)}  vs K=${runs[0].k} ${(base / median(run.wall)).toFixed(3)}x`);
console.log(`rss ${(process.memoryUsage().rss / 1e9).toFixed(2)} GB`);
await multi.dispose();
