import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../../src/ml/tf.ts';
import { initBackend } from '../../../../src/ml/backend.ts';
import { buildModel, type ModelSpec } from '../../../../src/ml/models/index.ts';
import { compileTrainStep, OrtTrainer, trainLossOf } from '../../../../src/ml/onnx/training/ort-trainer.ts';
import { stateBytes, stepsPerRun, STEPS_PER_RUN_ENV } from '../../../../src/ml/onnx/training/steps-per-run.ts';
import { batch, needsOrt, ort } from './step-fixtures.ts';

/**
 * K optimizer steps chained in one session.run (multi-step-graph.ts) give the bits of K single steps:
 * weights, batch-norm moving statistics, Adam's moments and scalars, and each step's loss.
 */
const specs: ModelSpec[] = [
  { arch: 'small-cnn', inputSize: 32, channels: 1, classes: 3, task: 'multilabel', seed: 1 },
  { arch: 'resnet18', inputSize: 32, channels: 1, classes: 3, task: 'multilabel', seed: 2, width: 0.25 },
];

/** Every weight, moving statistic and optimizer state tensor of a trainer, as arrays. */
function stateOf(trainer: OrtTrainer, model: tf.LayersModel): Float32Array[] {
  trainer.writeToModel();
  const optimizer = trainer.getOptimizerWeights();
  const out = [...model.weights.map((w) => w.read().dataSync() as Float32Array), ...optimizer.map((w) => Float32Array.from(w.tensor.dataSync()))];
  tf.dispose(optimizer.map((w) => w.tensor));
  return out;
}

for (const spec of specs) {
  test(`${spec.arch} ${spec.inputSize} px: 4 steps in one run, then 2 in another, equal 6 single steps bit for bit (a pool change between them)`, needsOrt, async () => {
    await initBackend('wasm');
    const batches = Array.from({ length: 6 }, (_, i) => batch(spec, 4, 10 + i));
    const options = { loss: trainLossOf('bce', spec.task), optimizer: { name: 'adam' as const }, threads: 2, runtime: ort };
    const singleModel = buildModel(spec);
    const single = await OrtTrainer.create(singleModel, options);
    const singleLosses: number[] = [];
    for (const b of batches) singleLosses.push(await single.step(b.xs, b.ys, 4, 1e-3));
    const chainedModel = buildModel(spec);
    const chained = await OrtTrainer.create(chainedModel, options);
    const losses = await chained.stepMany(batches.slice(0, 4).map((b) => ({ xs: [b.xs], y: b.ys })), 4, 1e-3);
    await chained.usePool({ config: { session: { intra_op: { allow_spinning: '0' } } }, reason: 'test' } as never); // recheckPool's path: new sessions for every graph
    losses.push(...(await chained.stepMany(batches.slice(4).map((b) => ({ xs: [b.xs], y: b.ys })), 4, 1e-3)));
    assert.deepEqual(losses, singleLosses);
    assert.equal(chained.steps, 6);
    const [a, b] = [stateOf(single, singleModel), stateOf(chained, chainedModel)];
    assert.equal(a.length, b.length);
    a.forEach((v, i) => assert.deepEqual(b[i], v, `state tensor ${i}`));
    assert.ok(singleLosses[5] !== singleLosses[0], 'the steps train');
    for (const t of [single, chained]) await t.dispose();
    tf.dispose(batches.flatMap((b) => [b.x, b.y]));
  });
}

test('steps per run: 4 for a graph with >= 100 MB of state (ResNet-18 128 px), 1 for a small CNN; PIPELINE_ORT_STEPS_PER_RUN overrides, a bad value is named', async () => {
  await initBackend('wasm');
  const compile = (spec: ModelSpec, exposeGradients = false) => compileTrainStep(buildModel(spec), { loss: trainLossOf('bce', 'multilabel'), optimizer: { name: 'adam' }, exposeGradients }).graph;
  const resnet = compile({ arch: 'resnet18', inputSize: 128, channels: 1, classes: 4, task: 'multilabel', seed: 1 });
  const small = compile(specs[0]);
  assert.ok(stateBytes(resnet) > 130e6 && stateBytes(resnet) < 140e6, `ResNet-18 state ${stateBytes(resnet)} bytes`);
  assert.equal(stepsPerRun(resnet, {}), 4);
  assert.equal(stepsPerRun(small, {}), 1);
  assert.equal(stepsPerRun(small, { [STEPS_PER_RUN_ENV]: ' 3 ' }), 3);
  assert.equal(stepsPerRun(resnet, { [STEPS_PER_RUN_ENV]: '1' }), 1);
  assert.equal(stepsPerRun(resnet, { [STEPS_PER_RUN_ENV]: '' }), 4);
  assert.equal(stepsPerRun(compile(specs[0], true), { [STEPS_PER_RUN_ENV]: '4' }), 1, 'a graph exposing its gradients runs single steps');
  for (const bad of ['0', '2.5', 'four', '65']) assert.throws(() => stepsPerRun(small, { [STEPS_PER_RUN_ENV]: bad }), new RegExp(`${STEPS_PER_RUN_ENV} must be an integer from 1 to 64, got "${bad.replace('.', '\\.')}"`));
});
