import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../../src/ml/tf.ts';
import { initBackend } from '../../../../src/ml/backend.ts';
import { makeLoss, type LossConfig } from '../../../../src/ml/losses/index.ts';
import { InputNormalizationLayer } from '../../../../src/ml/layers/input-normalization.ts';
import { buildModel, type ModelSpec } from '../../../../src/ml/models/index.ts';
import { OrtTrainer, trainLossOf } from '../../../../src/ml/onnx/training/ort-trainer.ts';
import { trainingObjective } from '../../../../src/ml/training/objective.ts';
import { kinkFreeBatch, needsOrt, ort } from './step-fixtures.ts';

/**
 * One step's loss and every weight's gradient from the ONNX Runtime graph against tfjs (wasm backend; BCE / CE
 * from the logits in both, the zoo's models ending in a sigmoid / softmax layer),
 * within 1e-3 relative to the weight's largest gradient, or to 1e-3 of the model's largest gradient for
 * gradients that are ~0 by cancellation (a batch norm's beta or gamma under another batch norm: its float32
 * value is rounding noise in every engine), i.e. within 1e-6 of the model's largest gradient in absolute
 * terms, ~8 float32 epsilons: against float64 (bench/train-grad-check.ts WEIGHT=...) tfjs wasm's gradients that
 * are 0 or ~5e-5 of the model's largest are off by up to 1.3e-7 of it, and tfjs cpu and wasm differ by as much
 * (the MobileNetV2 case below). The floor was 1e-4 (1e-7 absolute, one epsilon: below the reference's own
 * noise), which left that case at 8.8e-4 and EfficientNet-B0 at 7.4e-4, both on such weights. A case names
 * weights whose noise needs a higher floor. Batches keep pre-activations away from ReLU kinks (step-fixtures.ts).
 */
function gradientError(got: Float32Array, want: ArrayLike<number>, modelScale: number, floor = 1e-3): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / Math.max(scale, floor * modelScale);
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
  /** A weight whose gradient is ~0 by batch-norm invariance, and the floor it is compared at instead of 1e-3 (see the note above the cases). */
  invariant?: { weight: RegExp; floor: number };
  /** A shallower MobileNetV2 of the same design (see the note above the cases). */
  depth?: NonNullable<Parameters<typeof buildModel>[1]>['depth'];
  /** A model of its own for the spec's input and outputs instead of the zoo's (a layer placed where the zoo has none). */
  model?: (spec: ModelSpec) => tf.LayersModel;
}

/** conv -> InputNormalization -> conv -> pool -> dense: the normalisation's input gradient is needed (in the zoo it is the first layer). */
function normalizationInside(spec: ModelSpec): tf.LayersModel {
  const input = tf.input({ shape: [spec.inputSize, spec.inputSize, spec.channels] });
  const conv = (filters: number, seed: number) => tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: true, kernelInitializer: tf.initializers.glorotUniform({ seed }), biasInitializer: tf.initializers.randomNormal({ seed: seed + 1 }) });
  const first = conv(4, 1).apply(input) as tf.SymbolicTensor;
  const normalized = new InputNormalizationLayer({ name: 'mid_normalize', mean: [0.1, -0.2, 0.3, 0], std: [0.5, 2, 0.25, 1] }).apply(first) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(tf.layers.activation({ activation: 'sigmoid' }).apply(conv(6, 3).apply(normalized)) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: spec.classes, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }).apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

// MobileNetV2 at full depth has no kink-free batch, so it is compared at a shallower depth of the same design
// (every layer kind, stride and merge it uses). Checked against float64 (bench/train-grad-check.ts mobilenetv2 64
// 2 bce 8 with DATA_SEED=9 FLIPS=1), its full-depth difference from tfjs wasm (4.6e-1 here earlier, 9.1e-2 now)
// was single ReLU6 branch choices, not the graph's maths nor batch-norm conditioning: tfjs wasm puts one
// pre-activation of ir15_expand_relu6 that is 1.5e-5 from the kink in float64 on the other side, ONNX Runtime and
// tfjs cpu one of ir17_expand_relu6 3.0e-5 from it; with each engine's choice applied to the float64 step, ONNX
// Runtime is within 6.8e-4 of it (tfjs cpu 3.0e-4, tfjs wasm 1.3e-3). The batch check's 2e-6 cannot exclude such
// values: by the last stages the float32 forward drifts ~1e-5 relative between engines, and with thousands of
// values per layer some are likely to lie that close to a kink.
// Gradients that are ~0 by batch-norm invariance are float32 noise in every engine. At the default floor: the
// shallower MobileNetV2's project_bn betas (shifts that the next 1x1 conv and batch norm remove: 0 in float64;
// tfjs wasm off by up to 1.3e-7 of the model's largest gradient, ONNX Runtime by 1.9e-8) and its stem_bn/gamma
// (4.8e-5 of the largest: scaling it changes the output only through ReLU6's cap and epsilon; off by 8.6e-8
// (tfjs wasm), 3.3e-8 (tfjs cpu), 2.8e-8 (ONNX Runtime); ONNX Runtime - tfjs wasm 8.8e-8, tfjs cpu - wasm 9.2e-8).
// Beyond it: DenseNet's stem_bn/gamma (every consumer is a batch norm behind ReLU and max pooling, so scaling it
// changes nothing but through epsilon: 1.6e-5 of the model's largest gradient). Against
// float64 on DenseNet-121's batch (DATA_SEED=11 CLASSES=2 ... densenet121 64 2 focal 10) stem_bn/gamma is off by
// 3.3e-7 (ONNX Runtime), 3.6e-7 (tfjs cpu) and 2.4e-6 (tfjs wasm) of the largest gradient and no other weight of
// any engine by more than 1e-3 (against tfjs wasm this weight differs by 3.2e-2 at a floor of 1e-4, 1.2e-1 when
// marked todo; the next by 7.1e-5); so this weight alone compares at a floor of 1e-2.
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
  // s4b1_down_conv kernel gradient differed by 1.8e-3 (another data seed: 9.1e-4), which was put down to
  // float32 conditioning of the small last stage (not checked against float64); at 64 px the worst is 3.7e-5.
  { spec: { arch: 'resnet34', inputSize: 64, channels: 1, classes: 3, task: 'multilabel', seed: 7, width: 0.25 }, loss: 'bce', n: 4, dataSeed: 8, classWeights: [2, 1, 0.5] },
  // 64 px: the last stage keeps 2 x 2 positions per image. At 32 px (1 x 1) its batch norms see as many
  // values as images and float32 sums lose the gradient there in every engine: tfjs cpu, tfjs wasm and
  // this graph all differed from a float64 reference by up to 3.5e-1 (bench/train-grad-check.ts).
  { spec: { arch: 'mobilenetv2', inputSize: 64, channels: 1, classes: 3, task: 'multilabel', seed: 8 }, loss: 'bce', n: 2, dataSeed: 9, depth: { stages: [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2]] } },
  { spec: { arch: 'efficientnet-b0', inputSize: 64, channels: 1, classes: 3, task: 'multilabel', seed: 9 }, loss: { asl: {} }, n: 2, dataSeed: 10 },
  { spec: { arch: 'densenet121', inputSize: 64, channels: 1, classes: 2, task: 'multilabel', seed: 10 }, loss: 'focal', n: 2, dataSeed: 11, invariant: { weight: /^stem_bn\/gamma/, floor: 1e-2 } },
  // transformers at small sizes; Swin: 9 x 9 tokens in 4 x 4 windows (padded and shifted windows, odd-size patch merging)
  // input normalisation (normalize: symmetric / imagenet) as the first layer, and inside a model where its input gradient counts
  { spec: { arch: 'resnet18', inputSize: 28, channels: 1, classes: 2, task: 'multiclass', seed: 13, width: 0.25, stem: 'small', init: 'torch', normalize: { mean: [0.5], std: [0.5] } }, loss: 'ce', n: 4, dataSeed: 14 },
  { spec: { arch: 'small-cnn', inputSize: 24, channels: 3, classes: 3, task: 'multilabel', seed: 14, width: 0.5, normalize: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } }, loss: 'bce', n: 4, dataSeed: 15 },
  { spec: { arch: 'small-cnn', inputSize: 12, channels: 3, classes: 2, task: 'multilabel' }, loss: 'bce', n: 4, dataSeed: 16, model: normalizationInside },
  { spec: { arch: 'vit-tiny', inputSize: 32, channels: 1, classes: 3, task: 'multiclass', seed: 11, patch: 8 }, loss: 'ce', n: 4, dataSeed: 12, transformer: { dim: 24, heads: 3, depth: 2 } },
  { spec: { arch: 'swin-tiny', inputSize: 36, channels: 1, classes: 3, task: 'multilabel', seed: 12, patch: 4 }, loss: 'bce', n: 4, dataSeed: 13, transformer: { dim: 12, depths: [2, 2], heads: [2, 4], window: 4 } },
];

for (const c of cases) {
  const label = `${c.spec.normalize ? `normalize ${JSON.stringify(c.spec.normalize)} ` : ''}${c.model ? `${c.model.name} (not the zoo)` : c.spec.arch}${c.depth ? ` (shallower: ${JSON.stringify(c.depth)})` : ''}${c.spec.width ? ` x${c.spec.width}` : ''} ${c.spec.inputSize} px ${c.spec.channels} ch, ${JSON.stringify(c.loss)}${c.classWeights ? ' class-weighted' : ''}${c.soft ? ', soft targets' : ''}`;
  test(`${label}: the loss and every weight's gradient of one ONNX Runtime step equal tfjs's`, needsOrt, async () => {
    await initBackend('wasm');
    const model = c.model ? c.model(c.spec) : buildModel(c.spec, { transformer: c.transformer, depth: c.depth });
    const { x, y, xs, ys } = kinkFreeBatch(model, c.spec, c.n, c.dataSeed, c.soft);
    const trainer = await OrtTrainer.create(model, { loss: trainLossOf(c.loss, c.spec.task, c.classWeights), optimizer: { name: 'adam' }, threads: 1, exposeGradients: true, runtime: ort });
    const loss = await trainer.step(xs, ys, c.n, 1e-3);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => trainingObjective(model, makeLoss(c.loss, c.spec.task, c.classWeights))(x, y), vars);
    const want = value.dataSync()[0];
    assert.ok(Math.abs(loss - want) <= 1e-4 * Math.abs(want), `loss ${loss} vs tfjs ${want}`);
    const ours = trainer.lastGradients();
    assert.equal(ours.length, vars.length);
    const wanted = vars.map((v) => grads[v.name].dataSync() as Float32Array);
    const modelScale = Math.max(...wanted.map((g) => g.reduce((m: number, v: number) => Math.max(m, Math.abs(v)), 0)));
    const errors = vars.map((v, i) => [v.name, gradientError(ours[i], wanted[i], modelScale, c.invariant?.weight.test(v.name) ? c.invariant.floor : undefined)] as const);
    const worst = errors.reduce((a, b) => (b[1] > a[1] ? b : a));
    console.log(`${label}: worst gradient difference ${worst[1].toExponential(2)} (${worst[0]})`);
    assert.ok(worst[1] < 1e-3, `${worst[0]}: gradient differs by ${worst[1]} (relative)`);
    await trainer.dispose();
    tf.dispose([x, y, value, ...Object.values(grads)]);
    model.dispose();
  });
}
