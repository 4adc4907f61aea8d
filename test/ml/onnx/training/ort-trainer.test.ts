import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../../src/ml/tf.ts';
import { initBackend } from '../../../../src/ml/backend.ts';
import { binaryCrossEntropy, crossEntropy } from '../../../../src/ml/losses/index.ts';
import { buildModel, type ModelSpec } from '../../../../src/ml/models/index.ts';
import { UnsupportedLayerError } from '../../../../src/ml/onnx/errors.ts';
import { loadOnnxRuntime } from '../../../../src/ml/onnx/runtime.ts';
import { OrtTrainer, trainLossOf, UnsupportedTrainingError } from '../../../../src/ml/onnx/training/ort-trainer.ts';
import { maxRelDiff } from '../../max-rel-diff.ts';

type NamedTensors = { name: string; tensor: tf.Tensor }[];

const ort = await loadOnnxRuntime();
const needsOrt = { skip: ort ? false : 'onnxruntime-node is not installed' };

/**
 * The references run on tfjs's wasm backend (its gradients agree with the cpu backend's to ~4e-6 here, and
 * it is 10x faster). The ONNX graph sums in other orders than tfjs, so a pre-ReLU value within ~1e-6 of 0
 * can take the other branch and move gradients by a discrete amount (resnet18 33 px, 8 data seeds: the 2
 * with a pre-ReLU value of 1.7e-7 and 1.0e-6 differ by 3e-2 and 8e-2, the others by <= 2e-5). Those are
 * ties, not errors of the emitted maths: the batches here have none (`tieFreeBatch`).
 */
function nearestReluTie(model: tf.LayersModel, x: tf.Tensor): number {
  const reluInputs = model.layers.filter((l) => l.getClassName() === 'Activation' && (l.getConfig() as { activation: string }).activation === 'relu').map((l) => l.input as tf.SymbolicTensor);
  if (reluInputs.length === 0) return Infinity; // the transformers (GELU)
  const movingStats = model.nonTrainableWeights.map((w) => w.read().clone()); // the training-mode forward updates them
  const nearest = tf.tidy(() => Math.min(...(tf.model({ inputs: model.inputs, outputs: reluInputs }).apply(x, { training: true }) as tf.Tensor[]).map((t) => tf.min(tf.abs(t)).dataSync()[0])));
  model.nonTrainableWeights.forEach((w, i) => w.write(movingStats[i]));
  tf.dispose(movingStats);
  return nearest;
}

/** The first batch from data seed `seed` on with no pre-ReLU value within 2e-6 of 0 for the model's current weights. */
function tieFreeBatch(model: tf.LayersModel, spec: ModelSpec, n: number, seed: number) {
  for (let s = seed; s < seed + 20; s++) {
    const b = batch(spec, n, s);
    if (nearestReluTie(model, b.x) > 2e-6) return b;
    tf.dispose([b.x, b.y]);
  }
  throw new Error(`20 batches from data seed ${seed} all have pre-ReLU ties`);
}

function batch(spec: ModelSpec, n: number, seed: number) {
  const x = tf.randomUniform([n, spec.inputSize, spec.inputSize, spec.channels], 0, 1, 'float32', seed);
  const y = tf.tensor2d(
    Array.from({ length: n * spec.classes }, (_, i) => (spec.task === 'multiclass' ? Number(i % spec.classes === (Math.floor(i / spec.classes) * 7) % spec.classes) : Number((i * 7) % 3 === 0))),
    [n, spec.classes],
  );
  return { x, y, xs: x.dataSync() as Float32Array, ys: y.dataSync() as Float32Array };
}

const lossOf = (spec: ModelSpec) => (spec.task === 'multiclass' ? 'ce' : 'bce') as 'ce' | 'bce';
const tfjsLoss = (spec: ModelSpec) => (spec.task === 'multiclass' ? crossEntropy() : binaryCrossEntropy());

type TransformerSizes = NonNullable<Parameters<typeof buildModel>[1]>['transformer'];
const gradientCases: [ModelSpec, number, TransformerSizes?][] = [
  [{ arch: 'small-cnn', inputSize: 32, channels: 1, classes: 3, task: 'multilabel', seed: 3 }, 1],
  [{ arch: 'small-cnn', inputSize: 32, channels: 3, classes: 4, task: 'multiclass', seed: 4 }, 2],
  [{ arch: 'resnet18', inputSize: 33, channels: 3, classes: 3, task: 'multiclass', seed: 5 }, 2],
  [{ arch: 'resnet18', inputSize: 64, channels: 1, classes: 2, task: 'binary', seed: 6, width: 0.25 }, 4],
  // transformers at small sizes; Swin: 9 x 9 tokens in 4 x 4 windows (padded and shifted windows, odd-size patch merging)
  [{ arch: 'vit-tiny', inputSize: 32, channels: 1, classes: 3, task: 'multiclass', seed: 11, patch: 8 }, 12, { dim: 24, heads: 3, depth: 2 }],
  [{ arch: 'swin-tiny', inputSize: 36, channels: 1, classes: 3, task: 'multilabel', seed: 12, patch: 4 }, 13, { dim: 12, depths: [2, 2], heads: [2, 4], window: 4 }],
];

for (const [spec, dataSeed, transformer] of gradientCases) {
  const label = `${spec.arch}${spec.width ? ` x${spec.width}` : ''} ${spec.inputSize} px ${spec.channels} ch, ${lossOf(spec)}`;
  test(`${label}: the loss and every weight's gradient of one ONNX Runtime step equal tfjs's within 1e-3`, needsOrt, async () => {
    await initBackend('wasm');
    const model = buildModel(spec, { transformer });
    const n = 4;
    const { x, y, xs, ys } = tieFreeBatch(model, spec, n, dataSeed);
    const trainer = await OrtTrainer.create(model, { loss: trainLossOf(lossOf(spec)), optimizer: { name: 'adam' }, threads: 1, exposeGradients: true, runtime: ort });
    const loss = await trainer.step(xs, ys, n, 1e-3);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => tfjsLoss(spec)(y as tf.Tensor2D, model.apply(x, { training: true }) as tf.Tensor2D), vars);
    assert.ok(Math.abs(loss - value.dataSync()[0]) <= 1e-3 * Math.abs(value.dataSync()[0]), `loss ${loss} vs tfjs ${value.dataSync()[0]}`);
    const ours = trainer.lastGradients();
    assert.equal(ours.length, vars.length);
    for (const [i, v] of vars.entries()) assert.ok(maxRelDiff(ours[i], grads[v.name]) < 1e-3, `${v.name}: gradient differs by ${maxRelDiff(ours[i], grads[v.name])} (relative)`);
    await trainer.dispose();
    tf.dispose([x, y, value, ...Object.values(grads)]);
    model.dispose();
  });
}

/**
 * `own`: tfjs computes its own gradients. Adam's first steps move each weight by about lr * sign(gradient),
 * so a weight whose gradient is ~0 moves either way on float32 noise: resnet18 (x0.5, 64 px) differed by
 * 1.6e-2 relative (2 lr / max |w|) after one step, BN betas (starting at 0) by 1e-1 after two. There tfjs's
 * Adam is fed the trainer's gradients (`trainer`): the Adam maths and the BN moving stats are compared alone.
 */
const adamCases: [ModelSpec, 'own' | 'trainer'][] = [
  [{ arch: 'small-cnn', inputSize: 32, channels: 1, classes: 3, task: 'multilabel', seed: 7 }, 'own'],
  [{ arch: 'resnet18', inputSize: 64, channels: 3, classes: 3, task: 'multiclass', seed: 8, width: 0.25 }, 'trainer'],
];
for (const [spec, gradients] of adamCases) {
  test(`${spec.arch} ${spec.inputSize} px, ${gradients === 'own' ? "tfjs's" : "the trainer's"} gradients in tfjs: 5 Adam steps give tfjs's weights and BN moving stats (1e-3); optimizer state moves between the engines`, needsOrt, async () => {
    await initBackend('wasm');
    const reference = buildModel(spec);
    const model = buildModel(spec);
    const trainer = await OrtTrainer.create(model, { loss: trainLossOf(lossOf(spec)), optimizer: { name: 'adam' }, threads: 1, runtime: ort, exposeGradients: gradients === 'trainer' });
    const optimizer = tf.train.adam(1e-3);
    const vars = reference.trainableWeights.map((w) => w.read() as tf.Variable);
    const lrs = [1e-3, 1e-3, 5e-4, 5e-4, 2e-4];
    for (const [step, lr] of lrs.entries()) {
      const { x, y, xs, ys } = tieFreeBatch(reference, spec, 4, 100 * step);
      (optimizer as unknown as { learningRate: number }).learningRate = lr;
      const got = await trainer.step(xs, ys, 4, lr);
      let want: number;
      if (gradients === 'own') want = tf.tidy(() => optimizer.minimize(() => tfjsLoss(spec)(y, reference.apply(x, { training: true }) as tf.Tensor2D), true, vars)!.dataSync()[0]);
      else {
        want = tf.tidy(() => tfjsLoss(spec)(y, reference.apply(x, { training: true }) as tf.Tensor2D).dataSync()[0]); // and the moving stats
        const grads = trainer.lastGradients();
        tf.tidy(() => optimizer.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: tf.tensor(grads[i], v.shape) }))));
      }
      assert.ok(Math.abs(got - want) <= 1e-3 * want, `step ${step + 1}: loss ${got} vs tfjs ${want}`);
      tf.dispose([x, y]);
    }
    trainer.writeToModel();
    const ours = model.weights;
    reference.weights.forEach((w, i) => assert.ok(maxRelDiff(ours[i].read(), w.read()) < 1e-3, `${w.name}: differs by ${maxRelDiff(ours[i].read(), w.read())} after 5 steps`));
    assert.ok(reference.weights.some((w) => w.name.includes('moving_mean')), 'the BN moving stats are among the compared weights');

    // The Adam state in tfjs's format, both ways: tfjs resumes from the trainer's state, a fresh trainer from tfjs's.
    const state = trainer.getOptimizerWeights();
    const tfjsState = await optimizer.getWeights();
    const names = (m: tf.LayersModel) => ['m', 'v'].flatMap((k) => m.trainableWeights.map((w) => `${(w.read() as tf.Variable).name}/${k}`));
    assert.deepEqual(state.map((s) => s.name), ['iter', ...names(model)]);
    assert.equal(state[0].tensor.dataSync()[0], 5);
    state.slice(1).forEach((s, i) => assert.ok(maxRelDiff(s.tensor, tfjsState[i + 1].tensor) < 1e-3, `${s.name} differs by ${maxRelDiff(s.tensor, tfjsState[i + 1].tensor)}`));
    const { x, y, xs, ys } = tieFreeBatch(reference, spec, 4, 1000);
    const step6 = async (from: tf.LayersModel, optimizerState: NamedTensors) => {
      const tfjsModel = buildModel(spec);
      tfjsModel.setWeights(from.getWeights());
      const ortModel = buildModel(spec);
      ortModel.setWeights(from.getWeights());
      const resumed = tf.train.adam(2e-4);
      await resumed.setWeights(optimizerState);
      const tfjsVars = tfjsModel.trainableWeights.map((w) => w.read() as tf.Variable);
      tf.tidy(() => {
        resumed.minimize(() => tfjsLoss(spec)(y, tfjsModel.apply(x, { training: true }) as tf.Tensor2D), false, tfjsVars);
      });
      const ortTrainer = await OrtTrainer.create(ortModel, { loss: trainLossOf(lossOf(spec)), optimizer: { name: 'adam' }, threads: 1, runtime: ort });
      ortTrainer.setOptimizerWeights(optimizerState);
      await ortTrainer.step(xs, ys, 4, 2e-4);
      ortTrainer.writeToModel();
      tfjsModel.weights.forEach((w, i) => assert.ok(maxRelDiff(ortModel.weights[i].read(), w.read()) < 1e-3, `step 6, ${w.name}: differs by ${maxRelDiff(ortModel.weights[i].read(), w.read())}`));
      await ortTrainer.dispose();
      resumed.dispose();
      tfjsModel.dispose();
      ortModel.dispose();
    };
    await step6(model, state);
    await step6(reference, tfjsState);
    tf.dispose([x, y, ...state.map((s) => s.tensor)]);
    await trainer.dispose();
    optimizer.dispose();
    reference.dispose();
    model.dispose();
  });
}

test('layers, losses and optimizers the training graph does not implement are refused (callers fall back to tfjs)', needsOrt, async () => {
  await initBackend('wasm');
  const base = { inputSize: 32, channels: 1, classes: 2, task: 'multilabel', seed: 1 } as const;
  const mobilenet = buildModel({ arch: 'mobilenetv2', ...base });
  await assert.rejects(OrtTrainer.create(mobilenet, { loss: { kind: 'bce' }, optimizer: { name: 'adam' }, runtime: ort }), UnsupportedLayerError); // its ReLU(max 6) layers and depthwise convs
  const dropout = buildModel({ arch: 'small-cnn', ...base, dropout: 0.2 });
  await assert.rejects(OrtTrainer.create(dropout, { loss: { kind: 'bce' }, optimizer: { name: 'adam' }, runtime: ort }), (e: unknown) => e instanceof UnsupportedLayerError && /dropout/.test(e.message));
  const cnn = buildModel({ arch: 'small-cnn', ...base });
  assert.throws(() => trainLossOf('focal'), UnsupportedTrainingError);
  assert.throws(() => trainLossOf({ asl: {} }), UnsupportedTrainingError);
  await assert.rejects(OrtTrainer.create(cnn, { loss: { kind: 'bce' }, optimizer: { name: 'sgd' }, runtime: ort }), UnsupportedTrainingError);
  tf.dispose([mobilenet, dropout, cnn].map((m) => m.dispose()) as never);
});
