/**
 * A/B of ONNX Runtime session options on the train step: the same step graph in one session per variant
 * (the trainer's options with the variant's merged over them), steps alternating between the sessions so
 * that load hits every variant alike; per variant the median wall and CPU ms per step (the process's CPU
 * time over the step, which includes what another session's pool still spins then).
 * Variants (VARIANTS, comma-separated, default "base,spin"): base (the trainer's: PIPELINE_ORT_SPIN, else
 * auto), sleep (pool threads sleep between ops), spin (pool threads spin without limit), spinNNN (spin NNN
 * us, then sleep), dbbNNN (session.dynamic_block_base NNN: parallel loops split into shrinking blocks),
 * daz (session.set_denormal_as_zero), noArena / noPattern (enableCpuMemArena / enableMemPattern false), affinity / affinitySpin (pool thread pinned to the other
 * core; sleeping / spinning 100 us), extended (graph optimisation level 'extended': no NCHWc layout), parallel (executionMode
 * 'parallel', 2 inter-op threads), chunkNNN / chunkInf (the trainer's parameter chunks of NNN elements,
 * or one buffer), nchwcOff (plain Conv ops instead of ONNX Runtime's NCHWc ones). Spinning variants belong in separate processes: an idle session's spinning pool
 * would hold a core while the others run.
 * usage: [VARIANTS=base,spin200] node --import tsx bench/train-ort-options.ts [ARCH=resnet18] [SIZE=128] [BATCH=32] [THREADS=2] [STEPS=5]
 */
import { initBackend } from '../src/ml/backend.ts';
import { buildModel, type Architecture } from '../src/ml/models/index.ts';
import { loadOnnxRuntime } from '../src/ml/onnx/runtime.ts';
import { OrtTrainer, trainLossOf } from '../src/ml/onnx/training/ort-trainer.ts';

const arch = (process.argv[2] ?? 'resnet18') as Architecture;
const [size, batch, threads, steps] = [128, 32, 2, 5].map((d, i) => Number(process.argv[3 + i] ?? d));
const variants = (process.env.VARIANTS ?? 'base,spin').split(',');

/** Session options merged over the trainer's for a variant name. */
function optionsOf(variant: string): Record<string, unknown> {
  const spin = /^spin(\d*)$/.exec(variant);
  const dbb = /^dbb(\d+)$/.exec(variant);
  if (variant === 'base' || variant === 'nchwcOff' || variant.startsWith('chunk')) return {};
  if (variant === 'sleep') return { extra: { session: { intra_op: { allow_spinning: '0' } } } };
  if (dbb) return { extra: { session: { dynamic_block_base: dbb[1] } } };
  if (variant === 'daz') return { extra: { session: { set_denormal_as_zero: '1' } } };
  if (spin) return { extra: { session: { intra_op: { allow_spinning: '1', ...(spin[1] ? { spin_duration_us: spin[1] } : {}) } } } };
  if (variant === 'affinity') return { extra: { session: { intra_op: { allow_spinning: '0' }, intra_op_thread_affinities: '2' } } };
  if (variant === 'affinitySpin') return { extra: { session: { intra_op: { allow_spinning: '1', spin_duration_us: '100' }, intra_op_thread_affinities: '2' } } };
  if (variant === 'extended') return { graphOptimizationLevel: 'extended' };
  if (variant === 'noArena') return { enableCpuMemArena: false };
  if (variant === 'noPattern') return { enableMemPattern: false };
  if (variant === 'parallel') return { executionMode: 'parallel', interOpNumThreads: 2 };
  throw new Error(`VARIANTS: unknown variant ${variant}`);
}

/**
 * b's entries over a's; `extra` and `extra.session` merged key by key (a variant's session entry keeps
 * the trainer's pool policy), `extra.session.intra_op` replaced whole (a spin variant sets all of it).
 */
function merged(a: Record<string, unknown>, b: Record<string, unknown>, depth = 2): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const both = depth > 0 && v && typeof v === 'object' && a[k] && typeof a[k] === 'object';
    out[k] = both ? merged(a[k] as Record<string, unknown>, v as Record<string, unknown>, depth - 1) : v;
  }
  return out;
}

await initBackend('auto');
const model = buildModel({ arch, inputSize: size, channels: 1, classes: 4, task: 'multilabel', seed: 1 });
const ort = (await loadOnnxRuntime())!;
const create = ort.InferenceSession.create.bind(ort.InferenceSession);
const x = Float32Array.from({ length: batch * size * size }, (_, i) => ((i * 2654435761) % 1000) / 1000);
const y = Float32Array.from({ length: batch * 4 }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
const runs: { variant: string; trainer: OrtTrainer; wall: number[]; cpu: number[] }[] = [];
for (const variant of variants) {
  const extra = optionsOf(variant);
  (ort.InferenceSession as { create: unknown }).create = (bytes: Uint8Array, options: Record<string, unknown>) => create(bytes, merged(options, extra) as never);
  const chunk = /^chunk(\d+|Inf)$/.exec(variant);
  const paramChunkElements = chunk ? (chunk[1] === 'Inf' ? Infinity : Number(chunk[1])) : undefined;
  const trainer = await OrtTrainer.create(model, { loss: trainLossOf('bce', 'multilabel'), optimizer: { name: 'adam' }, threads, runtime: ort, paramChunkElements, nchwc: variant !== 'nchwcOff' });
  await trainer.step(x, y, batch, 1e-3); // warm-up
  runs.push({ variant, trainer, wall: [], cpu: [] });
}
(ort.InferenceSession as { create: unknown }).create = create;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
for (let s = 0; s < steps; s++) {
  for (const run of runs) {
    const [t, c] = [performance.now(), cpuMs()];
    await run.trainer.step(x, y, batch, 1e-3);
    run.wall.push(performance.now() - t);
    run.cpu.push(cpuMs() - c);
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(`${arch} ${size}px batch ${batch}, ${threads} thread(s), ${steps} alternating steps per variant, ms per step (median):`);
for (const run of runs) console.log(`${run.variant.padEnd(14)} wall ${median(run.wall).toFixed(0).padStart(6)} (min ${Math.min(...run.wall).toFixed(0)})  cpu ${median(run.cpu).toFixed(0).padStart(6)} (min ${Math.min(...run.cpu).toFixed(0)})  img/s ${((batch * 1000) / median(run.wall)).toFixed(2)}${run.variant === 'base' ? `  pool ${run.trainer.pool ?? 'one thread'}` : ''}`);
for (const run of runs) await run.trainer.dispose();
