import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { loadExperiment } from '../../../src/experiment/load.ts';
import { buildModel, type ModelSpec } from '../../../src/ml/models/index.ts';
import { modelSpecOf } from '../../../src/stages/train.run.ts';
import type { TrainParams } from '../../../src/stages/train-params.ts';
import { REPO } from '../../support/workspace.ts';

const std = (v: Float32Array) => {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
};
const maxAbs = (v: Float32Array) => v.reduce((a, b) => Math.max(a, Math.abs(b)), 0);

/** Fan-in of a tfjs weight as PyTorch computes it: conv kernel [k, k, in, out] -> k*k*in; dense [in, out] -> in; a bias takes its layer's kernel's. */
function weightsWithFanIn(model: tf.LayersModel) {
  const out: { name: string; values: Float32Array; fanIn: number }[] = [];
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    const kernel = layer.weights.findIndex((w) => /kernel$/.test(w.originalName));
    if (kernel < 0) continue;
    const shape = ws[kernel].shape;
    const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    layer.weights.forEach((w, i) => {
      if (/kernel$|bias$/.test(w.originalName)) out.push({ name: w.originalName, values: ws[i].dataSync() as Float32Array, fanIn });
    });
  }
  return out;
}

const spec: ModelSpec = { arch: 'resnet18', inputSize: 28, channels: 1, classes: 2, task: 'multiclass', seed: 1, stem: 'small' };

test("initializer: torch gives PyTorch's layer defaults: every kernel and bias uniform in +-1/sqrt(fan_in)", async () => {
  await initBackend('cpu');
  const model = buildModel({ ...spec, init: 'torch' });
  const weights = weightsWithFanIn(model);
  assert.equal(weights.filter((w) => /kernel$/.test(w.name)).length, 21, '20 convolutions and the dense head');
  assert.ok(weights.some((w) => w.name === 'logits/bias'), 'the head has a bias');
  for (const { name, values, fanIn } of weights) {
    const bound = 1 / Math.sqrt(fanIn);
    assert.ok(maxAbs(values) <= bound * (1 + 1e-6), `${name}: |w| up to ${maxAbs(values)} > 1/sqrt(${fanIn})`);
    // Uniform on [-b, b]: standard deviation b / sqrt(3); the head's 2 biases are too few to measure.
    if (values.length >= 1000) assert.ok(Math.abs(std(values) / (bound / Math.sqrt(3)) - 1) < 0.05, `${name}: std ${std(values)} vs ${bound / Math.sqrt(3)}`);
    else assert.ok(maxAbs(values) > 0, `${name}: all zero`);
  }
  model.dispose();
});

test('the default init is unchanged (He-normal convolutions, Glorot dense kernel, zero biases) and differs from torch', async () => {
  await initBackend('cpu');
  const zoo = buildModel(spec);
  const stem = weightsWithFanIn(zoo).find((w) => w.name === 'stem_conv/kernel')!;
  // tfjs's heNormal: normal with sd sqrt(2 / fan_in) truncated at 2 sd (sd of the result ~0.88 of that).
  const he = Math.sqrt(2 / stem.fanIn) * 0.88;
  assert.ok(Math.abs(std(stem.values) / he - 1) < 0.15, `stem std ${std(stem.values)} vs ${he}`);
  assert.ok(maxAbs(stem.values) > 1 / Math.sqrt(stem.fanIn), 'He-normal reaches past the torch bound');
  assert.deepEqual([...weightsWithFanIn(zoo).find((w) => w.name === 'logits/bias')!.values], [0, 0]);
  const same = buildModel(spec).getWeights().map((w) => Array.from(w.dataSync()));
  assert.deepEqual(zoo.getWeights().map((w) => Array.from(w.dataSync())), same, 'seeded: same weights');
  zoo.dispose();
});

test("experiments/medmnist.yaml starts from PyTorch's initial weight distribution, as MedMNIST's PyTorch code does", async () => {
  await initBackend('cpu');
  const experiment = await loadExperiment(join(REPO, 'experiments/medmnist.yaml'), { skipExternalChecks: true, env: {} });
  const train = experiment.instances.find((i) => i.uses === 'train')!;
  const model = buildModel(modelSpecOf(train.params as TrainParams, 2, 'multiclass'));
  for (const { name, values, fanIn } of weightsWithFanIn(model)) {
    assert.ok(maxAbs(values) <= (1 + 1e-6) / Math.sqrt(fanIn), `${name}: |w| up to ${maxAbs(values)}, beyond PyTorch's 1/sqrt(${fanIn})`);
  }
  model.dispose();
});

test("swin-tiny starts from torchvision swin_t's initial weights (bench/transformer_scratch.py --stats), under either scheme", async () => {
  await initBackend('cpu');
  for (const init of ['zoo', 'torch'] as const) {
    const model = buildModel({ arch: 'swin-tiny', inputSize: 32, channels: 1, classes: 2, task: 'multiclass', seed: 1, init });
    const kinds = new Map<string, Float32Array[]>();
    for (const w of model.weights) {
      const kind = /patch_embed\/kernel/.test(w.originalName) ? 'patch conv kernel' : /patch_embed\/bias/.test(w.originalName) ? 'patch conv bias'
        : /relative_position_bias_table/.test(w.originalName) ? 'table' : /gamma$/.test(w.originalName) ? 'gamma' : /(bias|beta)$/.test(w.originalName) ? 'zero' : 'linear kernel';
      kinds.set(kind, [...(kinds.get(kind) ?? []), w.read().dataSync() as Float32Array]);
    }
    const of = (kind: string) => {
      const parts = kinds.get(kind)!;
      const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
      return all;
    };
    // torchvision: trunc_normal_(std=0.02) (bounds +-2, in effect a normal) for every Linear incl. the head, and the table.
    for (const kind of ['linear kernel', 'table']) assert.ok(Math.abs(std(of(kind)) / 0.02 - 1) < 0.02, `${init} ${kind}: std ${std(of(kind))} vs 0.02`);
    assert.ok(maxAbs(of('table')) > 0.04 * 1.05, 'not truncated at 2 sd');
    const head = model.getLayer('logits').getWeights();
    assert.ok(Math.abs(std(head[0].dataSync() as Float32Array) / 0.02 - 1) < 0.1, `${init} head std ${std(head[0].dataSync() as Float32Array)}`);
    assert.deepEqual([...head[1].dataSync()], [0, 0]);
    assert.equal(maxAbs(of('zero')), 0, 'linear biases and LayerNorm betas zero');
    assert.ok(of('gamma').every((g) => g === 1), 'LayerNorm gammas one');
    // The patch conv keeps PyTorch's Conv2d defaults: kernel and bias uniform in +-1/sqrt(fan_in), fan_in 1 * 4 * 4.
    const conv = of('patch conv kernel');
    assert.ok(maxAbs(conv) <= 0.25 * (1 + 1e-6) && Math.abs(std(conv) / (0.25 / Math.sqrt(3)) - 1) < 0.1, `${init} patch conv std ${std(conv)}`);
    assert.ok(maxAbs(of('patch conv bias')) <= 0.25 * (1 + 1e-6) && maxAbs(of('patch conv bias')) > 0.1, `${init} patch conv bias`);
    model.dispose();
  }
});
