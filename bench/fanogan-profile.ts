/**
 * Where f-AnoGAN's WGAN step on ONNX Runtime spends its time (bench/fanogan.ts's networks, batch and settings):
 * per critic step, the critic session, the generator session (every n_critic-th step), the JS spectral
 * projection and the noise draws; then ORT's profiler per op type over the critic session's runs.
 * usage: [IMAGES=file] node --import tsx bench/fanogan-profile.ts [THREADS=1] [STEPS=20]
 */
import * as tf from '../src/ml/tf.ts';
import { initBackend } from '../src/ml/backend.ts';
import { buildFanogan } from '../src/ml/anomaly/fanogan.ts';
import { ganNoise } from '../src/ml/anomaly/gan-trainer.ts';
import { OrtGanTrainer } from '../src/ml/anomaly/gan-trainer-ort.ts';
import { SpectralProjection } from '../src/ml/anomaly/lipschitz.ts';
import { loadOnnxRuntime } from '../src/ml/onnx/runtime.ts';
import { nchwcBlockSize, OrtTrainer } from '../src/ml/onnx/training/ort-trainer.ts';
import { FANOGAN_DEFAULTS as defaults } from '../src/stages/train-anomaly-params.ts';
import { benchBatches } from './anomaly-bench.ts';
import { printOpTimes, profileNextSession } from './ort-profiler.ts';

const [threads, steps] = [Number(process.argv[2] ?? 1), Number(process.argv[3] ?? 20)];
const [size, batch, nCritic] = [64, 32, defaults.n_critic];
await initBackend('auto');
const gan = buildFanogan({ inputSize: size, channels: 1, seed: 1, width: 0.5, bottleneck: 16, kappa: defaults.kappa });
const ort = (await loadOnnxRuntime())!;
await nchwcBlockSize(ort); // its probe session first, so that the profiler gets the critic step's
const profile = profileNextSession(ort, 'fanogan-profile');

interface Spent {
  ms: number;
  calls: number;
}
/** Milliseconds spent in a method, summed over its calls, per kind of `this` (`kind`). */
const timed = <C extends object>(proto: C, name: keyof C, kind: (self: C) => string = () => 'all') => {
  const spent = new Map<string, Spent>();
  const original = proto[name] as (...a: unknown[]) => unknown;
  (proto as Record<keyof C, unknown>)[name] = async function (this: C, ...a: unknown[]) {
    const t = performance.now();
    try {
      return await original.apply(this, a);
    } finally {
      const s = spent.get(kind(this)) ?? spent.set(kind(this), { ms: 0, calls: 0 }).get(kind(this))!;
      s.ms += performance.now() - t;
      s.calls++;
    }
  };
  return spent;
};
// the critic's step graph takes [x, z], the generator's z
const sessions = timed(OrtTrainer.prototype, 'stepOn', (t) => (t.graph.inputs.length === 2 ? 'critic' : 'generator'));
const projection = timed(SpectralProjection.prototype, 'project');
const trainer = await OrtGanTrainer.create(gan, { nCritic, lipschitz: 'spectral', clip: defaults.clip, seed: 1 }, ort, threads);
const xs = benchBatches({ size, batch }, () => tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1).dataSync() as Float32Array);
for (let i = 0; i < nCritic; i++) await trainer.step(xs[i % xs.length], new Float32Array(0), batch, defaults.gan_lr);
sessions.clear();
projection.clear();
const t = performance.now();
for (let i = 0; i < steps; i++) await trainer.step(xs[i % xs.length], new Float32Array(0), batch, defaults.gan_lr);
const total = (performance.now() - t) / steps;
const tn = performance.now();
for (let i = 0; i < steps; i++) ganNoise(batch, [4, 4, 16], 1, i).dataSync();
const noise = (2 * (performance.now() - tn)) / steps; // two draws per critic step at most (critic + generator)
const per = (s: Spent | undefined) => `${((s?.ms ?? 0) / steps).toFixed(2)} ms per critic step (${s?.calls ?? 0} runs, ${((s?.ms ?? 0) / (s?.calls || 1)).toFixed(1)} ms each)`;
const ms = (s: Spent | undefined) => (s?.ms ?? 0) / steps;
console.log(`WGAN step, 64 px batch ${batch}, ${threads} thread(s)${trainer.pool ? ` (pool ${trainer.pool})` : ""}, n_critic ${nCritic}: ${total.toFixed(1)} ms per critic step (${((batch * 1000) / total).toFixed(0)} img/s)`);
console.log(`  critic step session ${per(sessions.get('critic'))}`);
console.log(`  generator step session ${per(sessions.get('generator'))}`);
console.log(`  spectral projection ${per(projection.get('all'))}; noise draws <= ${noise.toFixed(2)} ms; the rest ${(total - ms(sessions.get('critic')) - ms(sessions.get('generator')) - ms(projection.get('all'))).toFixed(2)} ms`);
console.log('the critic step session, per run:');
printOpTimes(await profile(nCritic), steps, 12, Number(process.env.TOP_NODES ?? 0));
await trainer.dispose();
