import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../../src/ml/tf.ts';
import { initBackend } from '../../../../src/ml/backend.ts';
import { binaryCrossEntropy } from '../../../../src/ml/losses/index.ts';
import { buildModel, type ModelSpec } from '../../../../src/ml/models/index.ts';
import { UnsupportedLayerError } from '../../../../src/ml/onnx/errors.ts';
import { OrtTrainer, trainLossOf, UnsupportedTrainingError } from '../../../../src/ml/onnx/training/ort-trainer.ts';
import { makeOptimizer, ortOptimizerConfig, setLearningRate, type OptimizerName } from '../../../../src/ml/training/optimizer.ts';
import { restoreTfjsOptimizerState, tfjsOptimizerState } from '../../../../src/ml/training/optimizer-state.ts';
import { maxRelDiff } from '../../max-rel-diff.ts';
import { kinkFreeBatch, needsOrt, ort } from './step-fixtures.ts';

const spec: ModelSpec = { arch: 'small-cnn', inputSize: 24, channels: 1, classes: 3, task: 'multilabel', seed: 21, width: 0.5 };
const lrs = [3e-3, 3e-3, 1e-3, 1e-3, 5e-4];

/**
 * The optimizer maths alone: tfjs's optimizer of the train stage's name is fed the trainer's gradients
 * (so float32 differences in the gradients cannot move weights apart), 5 steps with a changing learning
 * rate; then the state moves both ways between the engines and one more step agrees.
 */
for (const [name, momentum] of [['adam', 0], ['sgd', 0.9], ['sgd', 0], ['rmsprop', 0.9], ['rmsprop', 0]] as [OptimizerName, number][]) {
  test(`${name}${name === 'adam' ? '' : ` (momentum ${momentum})`}: 5 steps of the ONNX Runtime graph give tfjs's weights and moving stats; the optimizer state moves between the engines`, needsOrt, async () => {
    await initBackend('wasm');
    const reference = buildModel(spec);
    const model = buildModel(spec);
    const trainer = await OrtTrainer.create(model, { loss: trainLossOf('bce', spec.task), optimizer: ortOptimizerConfig(name, momentum), threads: 1, runtime: ort, exposeGradients: true });
    const optimizer = makeOptimizer(name, lrs[0], momentum);
    const vars = reference.trainableWeights.map((w) => w.read() as tf.Variable);
    for (const [step, lr] of lrs.entries()) {
      const { x, y, xs, ys } = kinkFreeBatch(reference, spec, 4, 100 * step);
      setLearningRate(optimizer, lr);
      const got = await trainer.step(xs, ys, 4, lr);
      const want = tf.tidy(() => binaryCrossEntropy()(y, reference.apply(x, { training: true }) as tf.Tensor2D).dataSync()[0]); // and the moving stats
      assert.ok(Math.abs(got - want) <= 1e-4 * want, `step ${step + 1}: loss ${got} vs tfjs ${want}`);
      const grads = trainer.lastGradients();
      tf.tidy(() => optimizer.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: tf.tensor(grads[i], v.shape) }))));
      tf.dispose([x, y]);
    }
    trainer.writeToModel();
    reference.weights.forEach((w, i) => assert.ok(maxRelDiff(model.weights[i].read(), w.read()) < 1e-5, `${w.name}: differs by ${maxRelDiff(model.weights[i].read(), w.read())} after 5 steps`));
    assert.ok(reference.weights.some((w) => w.name.includes('moving_mean')), 'the BN moving stats are among the compared weights');

    const ortState = trainer.getOptimizerWeights();
    const tfjsState = await tfjsOptimizerState(optimizer);
    const layout = (state: { name: string }[], m: tf.LayersModel) => state.map((s) => s.name.replace(/^(.*)\/([a-z]+)$/, (_, v: string, slot: string) => `#${m.trainableWeights.findIndex((w) => (w.read() as tf.Variable).name === v)}/${slot}`));
    assert.deepEqual(layout(ortState, model), layout(tfjsState, reference), "tfjs's state layout (iter, slot groups in weight order; exact scalars for adam)");
    assert.equal(ortState[0].tensor.dataSync()[0], 5);
    ortState.slice(1).forEach((s, i) => assert.ok(maxRelDiff(s.tensor, tfjsState[i + 1].tensor) < 1e-5, `${s.name} differs by ${maxRelDiff(s.tensor, tfjsState[i + 1].tensor)}`));
    if (name === 'adam') assert.equal(ortState.at(-1)!.tensor.dataSync()[0], tfjsState.at(-1)!.tensor.dataSync()[0], 'the accumulated beta2 power is carried exactly, not recomputed');

    // one more step from each engine's state, on the other engine: the same weights
    const { x, y, xs, ys } = kinkFreeBatch(reference, spec, 4, 1000);
    const step6 = async (state: { name: string; tensor: tf.Tensor }[]) => {
      const tfjsModel = buildModel(spec);
      tfjsModel.setWeights(reference.getWeights());
      const ortModel = buildModel(spec);
      ortModel.setWeights(reference.getWeights());
      const resumed = makeOptimizer(name, 2e-4, momentum);
      await restoreTfjsOptimizerState(resumed, state);
      const ortTrainer = await OrtTrainer.create(ortModel, { loss: trainLossOf('bce', spec.task), optimizer: ortOptimizerConfig(name, momentum), threads: 1, runtime: ort, exposeGradients: true });
      ortTrainer.setOptimizerWeights(state);
      await ortTrainer.step(xs, ys, 4, 2e-4);
      const grads = ortTrainer.lastGradients();
      const tfjsVars = tfjsModel.trainableWeights.map((w) => w.read() as tf.Variable);
      tf.tidy(() => resumed.applyGradients(tfjsVars.map((v, i) => ({ name: v.name, tensor: tf.tensor(grads[i], v.shape) }))));
      ortTrainer.writeToModel();
      tfjsModel.trainableWeights.forEach((w, i) => assert.ok(maxRelDiff(ortModel.trainableWeights[i].read(), w.read()) < 1e-5, `step 6, ${w.name}: differs by ${maxRelDiff(ortModel.trainableWeights[i].read(), w.read())}`));
      await ortTrainer.dispose();
      resumed.dispose();
      tfjsModel.dispose();
      ortModel.dispose();
    };
    await step6(ortState);
    await step6(tfjsState);
    tf.dispose([x, y, ...ortState.map((s) => s.tensor), ...tfjsState.filter((s) => !(s.tensor instanceof tf.Variable)).map((s) => s.tensor)]);
    await trainer.dispose();
    optimizer.dispose();
    reference.dispose();
    model.dispose();
  });
}

test('layers, losses and optimizers the training graph does not implement are refused (callers fall back to tfjs)', needsOrt, async () => {
  await initBackend('wasm');
  const base = { inputSize: 24, channels: 1, classes: 2, task: 'multilabel', seed: 1, width: 0.5 } as const;
  const dropout = buildModel({ arch: 'small-cnn', ...base, dropout: 0.2 });
  await assert.rejects(OrtTrainer.create(dropout, { loss: { kind: 'bce' }, optimizer: { name: 'adam' }, runtime: ort }), (e: unknown) => e instanceof UnsupportedLayerError && /dropout/.test(e.message));
  const cnn = buildModel({ arch: 'small-cnn', ...base });
  assert.throws(() => trainLossOf('hinge' as never, 'multilabel'), UnsupportedTrainingError);
  await assert.rejects(OrtTrainer.create(cnn, { loss: { kind: 'bce' }, optimizer: { name: 'adadelta' }, runtime: ort }), UnsupportedTrainingError);
  await assert.rejects(OrtTrainer.create(cnn, { loss: { kind: 'hinge' }, optimizer: { name: 'adam' }, runtime: ort }), UnsupportedTrainingError);
  dropout.dispose();
  cnn.dispose();
});

/**
 * `epsilon`: Adam's first step is w - lr * g / (|g| + eps) (m and v bias-corrected: m^ = g, sqrt(v^) = |g|),
 * PyTorch's formula; with eps 1e-8 (PyTorch's default) instead of tfjs's 1e-7 both engines take that step,
 * which differs measurably for the weights whose gradient is within a few hundred times eps.
 */
test('adam epsilon: both engines take PyTorch\'s first step w - lr g / (|g| + 1e-8), not the 1e-7 default\'s', needsOrt, async () => {
  await initBackend('wasm');
  const lr = 1e-3;
  const model = buildModel(spec);
  const reference = buildModel(spec);
  const start = model.trainableWeights.map((w) => w.read().dataSync().slice());
  const trainer = await OrtTrainer.create(model, { loss: trainLossOf('bce', spec.task), optimizer: ortOptimizerConfig('adam', 0, 1e-8), threads: 1, runtime: ort, exposeGradients: true });
  const { x, y, xs, ys } = kinkFreeBatch(reference, spec, 4, 7);
  await trainer.step(xs, ys, 4, lr);
  const grads = trainer.lastGradients();
  trainer.writeToModel();
  const optimizer = makeOptimizer('adam', lr, 0, 1e-8);
  const vars = reference.trainableWeights.map((w) => w.read() as tf.Variable);
  tf.tidy(() => optimizer.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: tf.tensor(grads[i], v.shape) }))));
  // per element: the distance to the eps 1e-8 step and to the 1e-7 step, in units of lr
  const worst = (weights: tf.LayersModel, eps: number) =>
    Math.max(...weights.trainableWeights.map((w, i) => {
      const got = w.read().dataSync();
      return Math.max(...Array.from(got, (v, k) => Math.abs(v - (start[i][k] - (lr * grads[i][k]) / (Math.abs(grads[i][k]) + eps))) / lr));
    }));
  let small = 0;
  grads.forEach((g) => g.forEach((v) => (small += Number(v !== 0 && Math.abs(v) < 1e-5))));
  assert.ok(small > 0, 'some gradients are small enough for epsilon to matter');
  for (const [engine, weights] of [['onnxruntime', model], ['tfjs', reference]] as const) {
    assert.ok(worst(weights, 1e-8) < 1e-3, `${engine}: off PyTorch's eps 1e-8 step by ${worst(weights, 1e-8)} lr`);
    assert.ok(worst(weights, 1e-7) > 1e-2, `${engine}: the eps 1e-7 step would be within ${worst(weights, 1e-7)} lr: the test cannot tell them apart`);
  }
  tf.dispose([x, y]);
  await trainer.dispose();
  optimizer.dispose();
  model.dispose();
  reference.dispose();
});
