import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { residualMaps } from '../../../src/ml/anomaly/autoencoder.ts';
import { buildFanogan, disposeFanogan, variablesOf } from '../../../src/ml/anomaly/fanogan.ts';
import { GanTrainer } from '../../../src/ml/anomaly/gan-trainer.ts';
import { SpectralProjection, variableKernels } from '../../../src/ml/anomaly/lipschitz.ts';
import { createPredictor } from '../../../src/ml/inference/predictor.ts';
import { modelFromBytes, saveModelFiles } from '../../../src/ml/model-io.ts';
import { loadOnnxRuntime } from '../../../src/ml/onnx/runtime.ts';
import { maxRelDiff } from '../max-rel-diff.ts';

const ort = await loadOnnxRuntime();
const spec = { inputSize: 32, channels: 1 as const, seed: 5, width: 0.25, bottleneck: 4, kappa: 1 };

test('f-AnoGAN WGAN step: after every critic step each critic weight lies in [-c, c] (He-initialised weights start far outside), the generator steps every n_critic-th step, the optimizer state round-trips', async () => {
  await initBackend('wasm');
  const gan = buildFanogan(spec);
  const critic = variablesOf(gan.critic);
  const c = 0.01;
  const largest = () => Math.max(...critic.map((v) => tf.tidy(() => v.abs().max().dataSync()[0])));
  assert.ok(largest() > 10 * c, `the fresh critic's weights exceed c: ${largest()}`);
  const generatorBefore = variablesOf(gan.generator).map((v) => v.dataSync().slice());
  const trainer = new GanTrainer(gan, { nCritic: 3, lipschitz: 'clip', clip: c, seed: 1 }, 5e-5);
  const x = tf.randomUniform([4, 32, 32, 1], 0, 1, 'float32', 2).dataSync() as Float32Array;
  for (let i = 0; i < 2; i++) {
    await trainer.step(x, x, 4, 5e-5);
    for (const v of critic) {
      const values = v.dataSync();
      assert.ok(values.every((w) => w >= -c && w <= c), `${v.name} after critic step ${i + 1}: ${Math.min(...values)} .. ${Math.max(...values)}`);
    }
  }
  assert.ok(critic.some((v) => v.dataSync().some((w) => Math.abs(w) === Math.fround(c))), 'clipping bound reached');
  assert.deepEqual(trainer.takeGeneratorLosses().steps, 0, 'no generator step before the 3rd critic step');
  assert.ok(variablesOf(gan.generator).every((v, i) => maxRelDiff(v.dataSync() as Float32Array, generatorBefore[i] as Float32Array) === 0), 'generator untouched by critic steps');
  await trainer.step(x, x, 4, 5e-5);
  assert.equal(trainer.takeGeneratorLosses().steps, 1);
  assert.ok(variablesOf(gan.generator).some((v, i) => maxRelDiff(v.dataSync() as Float32Array, generatorBefore[i] as Float32Array) > 0), 'the generator stepped');
  const state = await trainer.getOptimizerWeights();
  const other = new GanTrainer(gan, { nCritic: 3, lipschitz: 'clip', clip: c, seed: 1 }, 5e-5);
  await other.setOptimizerWeights(state);
  assert.equal(other.criticSteps, 3);
  const again = await other.getOptimizerWeights();
  assert.deepEqual(again.map((t) => t.name), state.map((t) => t.name));
  again.forEach((t, i) => assert.ok(maxRelDiff(t.tensor.dataSync() as Float32Array, state[i].tensor.dataSync() as Float32Array) === 0, t.name));
  await trainer.dispose();
  await other.dispose();
  disposeFanogan(gan);
});

/** The largest singular value of a kernel viewed as [fan-in, outputs], by 300 power iterations in float64. */
function spectralNorm(kernel: tf.Tensor): number {
  const cols = kernel.shape[kernel.rank - 1];
  const rows = kernel.size / cols;
  const w = Float64Array.from(kernel.dataSync());
  let v = Array.from({ length: cols }, (_, i) => Math.cos(i + 1));
  let sigma = 0;
  for (let it = 0; it < 300; it++) {
    const u = Array.from({ length: rows }, (_, r) => v.reduce((s, vc, c) => s + w[r * cols + c] * vc, 0));
    const next = Array.from({ length: cols }, (_, c) => u.reduce((s, ur, r) => s + w[r * cols + c] * ur, 0));
    const norm = Math.hypot(...next);
    sigma = Math.sqrt(norm / Math.hypot(...v));
    v = next.map((x) => x / norm);
  }
  return sigma;
}

test('f-AnoGAN WGAN step, spectral projection: after each critic step every critic kernel has spectral norm <= 1 (He-initialised ones start above), resumed state projects identically', async () => {
  await initBackend('wasm');
  const gan = buildFanogan(spec);
  const kernels = variablesOf(gan.critic).filter((v) => v.rank >= 2);
  const before = kernels.map(spectralNorm);
  assert.ok(before.filter((s) => s > 1.2).length >= 3, `fresh kernels exceed 1: ${before.map((s) => s.toFixed(2))}`);
  const settings = { nCritic: 2, lipschitz: 'spectral' as const, clip: 0.01, seed: 1 };
  const trainer = new GanTrainer(gan, settings, 1e-3);
  const x = tf.randomUniform([4, 32, 32, 1], 0, 1, 'float32', 2).dataSync() as Float32Array;
  for (let i = 0; i < 3; i++) {
    await trainer.step(x, x, 4, 1e-3);
    const sigmas = kernels.map(spectralNorm);
    assert.ok(sigmas.every((s) => s <= 1.05), `(a power-iteration estimate) after critic step ${i + 1}: ${sigmas.map((s) => s.toFixed(4))}`);
    if (i === 2) assert.ok(sigmas.some((s) => s > 0.95), `the constraint is active, not a collapse: ${sigmas.map((s) => s.toFixed(4))}`);
  }
  // a second trainer given the first one's state continues with the same projection vectors
  // copies: tfjs hands out the optimizer's own variables, which the next step changes (checkpoints encode them at once)
  const state = (await trainer.getOptimizerWeights()).map((t) => ({ name: t.name, tensor: t.tensor.clone() }));
  assert.equal(state.filter((t) => t.name.startsWith('spectral/')).length, kernels.length);
  const weights = variablesOf(gan.bundle).map((v) => v.clone());
  await trainer.step(x, x, 4, 1e-3);
  const expected = kernels.map((k) => k.dataSync().slice());
  variablesOf(gan.bundle).forEach((v, i) => v.assign(weights[i]));
  const other = new GanTrainer(gan, settings, 1e-3);
  await other.setOptimizerWeights(state);
  await other.step(x, x, 4, 1e-3);
  kernels.forEach((k, i) => assert.ok(maxRelDiff(k.dataSync() as Float32Array, expected[i] as Float32Array) === 0, `${k.name} after the resumed step`));
  tf.dispose([...weights, ...state.map((t) => t.tensor)]);
  await trainer.dispose();
  await other.dispose();
  disposeFanogan(gan);
});

test('f-AnoGAN score: mean((x - G(E(x)))^2) + kappa * mean((f(x) - f(G(E(x))))^2) computed from the separate networks, within 1e-4; residual maps; save/load; ONNX Runtime', async () => {
  await initBackend('wasm');
  for (const [channels, kappa] of [[1, 1], [3, 1000]] as const) {
    const gan = buildFanogan({ ...spec, channels, kappa });
    const n = 3;
    const x = tf.randomUniform([n, 32, 32, channels], 0, 1, 'float32', 7) as tf.Tensor4D;
    // the critic's kernels as after a spectral projection, so the feature term is of the size it has in training
    new SpectralProjection(variableKernels(variablesOf(gan.critic)), 3).project();
    const expected = tf.tidy(() => {
      const xh = gan.generator.predict(gan.encoder.predict(x) as tf.Tensor) as tf.Tensor;
      const image = tf.squaredDifference(x, xh).mean([1, 2, 3]);
      const feature = tf.squaredDifference(gan.features.predict(x) as tf.Tensor, gan.features.predict(xh) as tf.Tensor).mean([1, 2, 3]);
      return { image: image.dataSync(), feature: feature.dataSync(), total: image.add(feature.mul(kappa)).dataSync() };
    });
    const scores = (gan.scorer.predict(x) as tf.Tensor).dataSync() as Float32Array;
    assert.deepEqual((gan.scorer.outputs[0].shape as number[]).slice(1), [1]);
    // kappa 1000 makes the feature term as large as the image term, so that the comparison checks it
    if (kappa > 1) assert.ok(expected.feature.every((f, i) => f * kappa > 0.3 * expected.image[i]), `the feature term counts here: ${Array.from(expected.feature)} vs ${Array.from(expected.image)}`);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(scores[i] - expected.total[i]) <= 1e-4 * expected.total[i], `${channels} channels, image ${i}: score ${scores[i]} vs ${expected.total[i]}`);
    const maps = residualMaps(gan.scorer, x);
    maps.maps.forEach((m, i) => assert.ok(Math.abs(m.reduce((a, b) => a + b, 0) / (m.length * channels) - expected.image[i]) <= 1e-4 * expected.image[i], `residual map ${i} is the image term`));
    const files = await saveModelFiles(gan.scorer);
    const loaded = await modelFromBytes(files['model.json'] as string, files['weights.bin'] as Uint8Array);
    assert.ok(maxRelDiff((loaded.predict(x) as tf.Tensor).dataSync() as Float32Array, scores) < 1e-5, 'saved and loaded');
    if (ort) {
      const predictor = await createPredictor(loaded, { engine: 'onnxruntime', threads: 1 });
      const viaOrt = await predictor.predict(x.dataSync() as Float32Array, n);
      await predictor.dispose();
      assert.ok(maxRelDiff(viaOrt, scores) < 1e-4, `ONNX Runtime ${Array.from(viaOrt)} vs tfjs ${Array.from(scores)}`);
    }
    x.dispose();
    loaded.dispose();
    disposeFanogan(gan);
  }
});
