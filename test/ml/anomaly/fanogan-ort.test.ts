import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { buildFanogan, disposeFanogan, variablesOf, type Fanogan } from '../../../src/ml/anomaly/fanogan.ts';
import { ganNoise, GanTrainer, WGAN_RMSPROP, type GanSettings } from '../../../src/ml/anomaly/gan-trainer.ts';
import { OrtGanTrainer, wganStepModels } from '../../../src/ml/anomaly/gan-trainer-ort.ts';
import { meanCombinationLoss } from '../../../src/ml/onnx/training/mean-loss-graph.ts';
import { OrtTrainer } from '../../../src/ml/onnx/training/ort-trainer.ts';
import { ort, needsOrt } from '../onnx/training/step-fixtures.ts';

const spec = { inputSize: 32, channels: 1 as const, seed: 5, width: 0.25, bottleneck: 4, kappa: 1 };
const N = 4;

/**
 * The tolerance of the classifiers' gradient test (test/ml/onnx/training/gradients.test.ts): each weight's
 * gradient within 1e-3 relative to its largest element, or to 1e-4 of the network's largest gradient
 * (float32 sums in another order: ~1e-6 relative per value, growing through the layers).
 */
function gradientErrors(got: readonly Float32Array[], want: readonly Float32Array[], names: readonly string[], floor = 1e-4): [string, number][] {
  const modelScale = Math.max(...want.map((w) => w.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
  return want.map((w, k) => {
    let diff = 0, scale = 0;
    for (let i = 0; i < w.length; i++) {
      diff = Math.max(diff, Math.abs(got[k][i] - w[i]));
      scale = Math.max(scale, Math.abs(w[i]));
    }
    return [names[k], diff / Math.max(scale, floor * modelScale)];
  });
}

/** tfjs's gradients of `f` over `vars` (training-mode batch norms update their statistics, as in the trainers). */
function tfjsGradients(f: () => tf.Scalar, vars: tf.Variable[]): { loss: number; grads: Float32Array[] } {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(f, vars);
    return { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync() as Float32Array) };
  });
}

const optimizer = { name: 'rmsprop', ...WGAN_RMSPROP };
const noise = (draw: number) => ganNoise(N, [2, 2, spec.bottleneck], 1, draw);

test('f-AnoGAN on ONNX Runtime, per phase: the critic step (G forward, D trained), the generator step (through the frozen D) and the izi_f encoder step (G, D frozen, G in inference mode) give tfjs\'s loss and gradients', needsOrt, async () => {
  await initBackend('wasm');
  const x = tf.randomUniform([N, 32, 32, 1], 0.05, 0.95, 'float32', 2) as tf.Tensor4D;
  const xs = x.dataSync() as Float32Array;
  const z = noise(0);
  const phases: { name: string; ort(gan: Fanogan): Promise<OrtTrainer>; inputs: Float32Array[]; tfjs(gan: Fanogan): { loss: number; grads: Float32Array[] } }[] = [
    {
      name: 'critic',
      ort: (gan) => OrtTrainer.create(wganStepModels(gan).pair, { loss: meanCombinationLoss([-1, 1]), optimizer, trainable: gan.critic.trainableWeights, frozen: [{ name: 'generator', variables: gan.generator.trainableWeights }], exposeGradients: true, runtime: ort! }),
      inputs: [xs, z.dataSync() as Float32Array],
      tfjs: (gan) => {
        const fake = gan.generator.apply(z, { training: true }) as tf.Tensor;
        const value = (t: tf.Tensor) => (gan.critic.apply(t, { training: true }) as tf.Tensor).mean();
        return tfjsGradients(() => value(fake).sub(value(x)) as tf.Scalar, variablesOf(gan.critic));
      },
    },
    {
      name: 'generator',
      ort: (gan) => OrtTrainer.create(wganStepModels(gan).adversary, { loss: meanCombinationLoss([-1]), optimizer, trainable: gan.generator.trainableWeights, frozen: [{ name: 'critic', variables: gan.critic.trainableWeights }], exposeGradients: true, runtime: ort! }),
      inputs: [z.dataSync() as Float32Array],
      tfjs: (gan) => tfjsGradients(() => (gan.critic.apply(gan.generator.apply(z, { training: true }) as tf.Tensor, { training: true }) as tf.Tensor).mean().neg() as tf.Scalar, variablesOf(gan.generator)),
    },
    {
      name: 'encoder',
      ort: (gan) => OrtTrainer.create(gan.scorer, { loss: meanCombinationLoss([1]), optimizer: { name: 'adam' }, trainable: gan.encoder.trainableWeights, training: false, exposeGradients: true, runtime: ort! }),
      inputs: [xs],
      tfjs: (gan) => tfjsGradients(() => (gan.scorer.apply(x, { training: false }) as tf.Tensor).mean() as tf.Scalar, variablesOf(gan.encoder)),
    },
  ];
  for (const phase of phases) {
    const gan = buildFanogan(spec);
    // moving statistics away from their initial 0 / 1, so that the encoder step's inference-mode batch norms use real ones
    tf.tidy(() => void gan.generator.apply(noise(9), { training: true }));
    const trainer = await phase.ort(gan);
    const want = phase.tfjs(gan);
    const loss = await trainer.stepOn(phase.inputs, N, 0);
    const names = trainer.graph.weights.map((w) => w.variable.name);
    const errors = gradientErrors(trainer.lastGradients(), want.grads, names);
    const worst = errors.reduce((a, b) => (b[1] > a[1] ? b : a));
    console.log(`${phase.name}: loss ${loss} vs tfjs ${want.loss}; worst gradient ${worst[0]} ${worst[1].toExponential(2)} relative; ${trainer.graph.nodeCount} nodes`);
    assert.ok(Math.abs(loss - want.loss) <= 1e-4 * Math.abs(want.loss), `${phase.name}: loss ${loss} vs tfjs ${want.loss}`);
    assert.ok(worst[1] < 1e-3, `${phase.name}: ${worst[0]}'s gradient differs by ${worst[1]} (relative)`);
    assert.equal(errors.length, phase.name === 'critic' ? variablesOf(gan.critic).length : phase.name === 'generator' ? variablesOf(gan.generator).length : variablesOf(gan.encoder).length);
    await trainer.dispose();
    disposeFanogan(gan);
  }
  tf.dispose([x, z]);
});

test('f-AnoGAN WGAN on ONNX Runtime follows the tfjs trainer over steps with the same seeds (critic and generator losses, weights, moving statistics), under spectral projection and weight clipping; its state round-trips', needsOrt, async () => {
  await initBackend('wasm');
  const x = tf.randomUniform([N, 32, 32, 1], 0, 1, 'float32', 2).dataSync() as Float32Array;
  for (const lipschitz of ['spectral', 'clip'] as const) {
    const settings: GanSettings = { nCritic: 2, lipschitz, clip: 0.05, seed: 1 };
    const [a, b] = [buildFanogan(spec), buildFanogan(spec)];
    const tfjsTrainer = new GanTrainer(a, settings, 1e-3);
    const ortTrainer = await OrtGanTrainer.create(b, settings, ort!, 2);
    const losses: [number, number][] = [];
    for (let step = 0; step < 6; step++) losses.push([await tfjsTrainer.step(x, x, N, 1e-3), await ortTrainer.step(x, x, N, 1e-3)]);
    const [ga, gb] = [tfjsTrainer.takeGeneratorLosses(), ortTrainer.takeGeneratorLosses()];
    console.log(`${lipschitz}: critic losses tfjs/ort ${losses.map(([p, q]) => `${p.toFixed(6)}/${q.toFixed(6)}`).join(' ')}; generator mean ${ga.mean} / ${gb.mean}`);
    for (const [i, [p, q]] of losses.entries()) assert.ok(Math.abs(p - q) <= 1e-3 * Math.abs(p) + 1e-6, `${lipschitz} step ${i + 1}: critic loss ${q} vs tfjs ${p}`);
    assert.equal(gb.steps, 3);
    assert.ok(Math.abs(ga.mean! - gb.mean!) <= 1e-3 * Math.abs(ga.mean!) + 1e-6, `generator loss ${gb.mean} vs tfjs ${ga.mean}`);
    ortTrainer.writeToModel();
    const all = (g: Fanogan) => g.bundle.weights.map((w) => w.read().dataSync() as Float32Array);
    // Weights within 1e-3 of the network's largest weight (floor 1: relative to the larger of the tensor's and the
    // network's largest value). Most agree to ~1e-6 relative; RMSProp moves an element by ~lr * g / |g|
    // whatever the gradient's size, so an element whose gradient is float32 noise moves by a fraction of lr
    // in a direction that rounding picks (seen after 6 steps at lr 1e-3: 2.2e-4 of the largest weight, 1.6,
    // in a critic kernel under spectral projection; 3.7e-7 under clipping).
    const errors = gradientErrors(all(b), all(a), a.bundle.weights.map((w) => w.name), 1);
    const worst = errors.reduce((p, q) => (q[1] > p[1] ? q : p));
    console.log(`${lipschitz}: weights after 6 steps, worst ${worst[0]} ${worst[1].toExponential(2)} of the largest weight`);
    assert.ok(worst[1] < 1e-3, `${lipschitz}: ${worst[0]} differs by ${worst[1]} after 6 steps`);

    const state = ortTrainer.getOptimizerWeights();
    const other = await OrtGanTrainer.create(b, settings, ort!, 1);
    other.setOptimizerWeights(state);
    assert.equal(other.criticSteps, 6);
    const again = other.getOptimizerWeights();
    assert.deepEqual(again.map((t) => t.name), state.map((t) => t.name));
    again.forEach((t, i) => assert.deepEqual(t.tensor.dataSync(), state[i].tensor.dataSync(), t.name));
    // the same next step from the restored state (one thread against two: the step is thread-invariant)
    const [next, restored] = [await ortTrainer.step(x, x, N, 1e-3), await other.step(x, x, N, 1e-3)];
    assert.equal(restored, next);
    tf.dispose([...state, ...again].map((t) => t.tensor));
    await Promise.all([tfjsTrainer.dispose(), ortTrainer.dispose(), other.dispose()]);
    disposeFanogan(a);
    disposeFanogan(b);
  }
});
