import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { binaryCrossEntropy, crossEntropy, makeLoss, type LossConfig } from '../../../src/ml/losses/index.ts';
import { OrtTrainer, trainLossOf } from '../../../src/ml/onnx/training/ort-trainer.ts';
import { trainingObjective } from '../../../src/ml/training/objective.ts';
import { needsOrt, ort } from '../onnx/training/step-fixtures.ts';

// PyTorch's BCEWithLogitsLoss / CrossEntropyLoss in float64 on these logits and targets (logits-reference.py
// prints them; z = 0 and |z| = 30 included).
const torchRef = {
  bce: { loss: 10.50628548390161, grad: [[-0.07092624719805683, 0.03857920275016373, 0.1666666666666511], [-0.16666666666665106, 0.09679951299631373, -0.06666666666666667]] },
  bce_weighted: { loss: 9.53733875911606, grad: [[-0.035463123599028416, 0.07715840550032746, 0.20833333333331386], [-0.08333333333332553, 0.19359902599262746, -0.08333333333333333]] },
  ce: { loss: 29.08043709888578, grad: [[-0.07146765513690803, 0.013037524423562482, 0.05843013071334556], [0.3333333333333022, -0.3333333333333333, 3.11920765627977e-14], [-0.03333333333333333, 0.26666666666663547, -0.2333333333333021]] },
  ce_weighted: { loss: 45.5804370988858, grad: [[-0.07146765513690803, 0.013037524423562482, 0.05843013071334556], [0.6666666666666043, -0.6666666666666666, 6.23841531255954e-14], [-0.03333333333333333, 0.14999999999997352, -0.11666666666664015]] },
};
const bceZ = [[0.3, -1.2, 30], [-30, 2, 0]];
const bceY = [[1, 0, 0], [1, 0.3, 0.9]];
const bceW = [0.5, 2, 1.25];
const ceZ = [[2, -1, 0.5], [30, -30, 0], [-30, 30, 0]];
const ceY = [[1, 0, 0], [0, 1, 0], [0.1, 0.2, 0.7]];
const ceW = [1, 2, 0.5];

interface Reference {
  name: keyof typeof torchRef;
  loss: LossConfig;
  task: 'multilabel' | 'multiclass';
  z: number[][];
  y: number[][];
  weights?: number[];
}
const references: Reference[] = [
  { name: 'bce', loss: 'bce', task: 'multilabel', z: bceZ, y: bceY },
  { name: 'bce_weighted', loss: 'bce', task: 'multilabel', z: bceZ, y: bceY, weights: bceW },
  { name: 'ce', loss: 'ce', task: 'multiclass', z: ceZ, y: ceY },
  { name: 'ce_weighted', loss: 'ce', task: 'multiclass', z: ceZ, y: ceY, weights: ceW },
];

/** Largest |got - want| over the flattened values, relative to max(1, |want|) for the loss. */
function assertClose(got: ArrayLike<number>, want: number[], tolerance: number, what: string): void {
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= tolerance * Math.max(1, Math.abs(want[i])), `${what}[${i}]: ${got[i]} vs PyTorch ${want[i]}`);
}

test('tfjs BCE / CE from the logits equal PyTorch BCEWithLogitsLoss / CrossEntropyLoss (loss and gradient, saturated logits included)', async () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend(backend);
    for (const r of references) {
      const fn = makeLoss(r.loss, r.task, r.weights).logits!;
      const y = tf.tensor2d(r.y);
      const z = tf.tensor2d(r.z);
      const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => fn.loss(y, t as tf.Tensor2D))(z);
      assertClose(value.dataSync(), [torchRef[r.name].loss], 1e-6, `${backend} ${r.name} loss`);
      assertClose(grad.dataSync(), torchRef[r.name].grad.flat(), 1e-6, `${backend} ${r.name} gradient`);
      tf.dispose([y, z, value, grad]);
    }
  }
});

/**
 * A model whose logits are a table: sample n is a one-hot image e_n, flattened into a bias-free dense layer
 * with kernel Z ([N, K]), so the logits are Z's rows and the kernel's gradient is the gradient at the logits.
 */
function tableModel(z: number[][], activation: 'sigmoid' | 'softmax'): { model: tf.LayersModel; x: tf.Tensor4D } {
  const n = z.length;
  const input = tf.input({ shape: [1, 1, n] });
  const dense = tf.layers.dense({ name: 'logits', units: z[0].length, useBias: false });
  const logits = dense.apply(tf.layers.flatten().apply(input)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: tf.layers.activation({ name: 'probs', activation }).apply(logits) as tf.SymbolicTensor });
  dense.setWeights([tf.tensor2d(z)]);
  return { model, x: tf.eye(n).reshape([n, 1, 1, n]) as tf.Tensor4D };
}

test('the ONNX training graph computes BCE / CE from the logits: loss and gradient equal PyTorch (saturated logits included)', needsOrt, async () => {
  await initBackend('wasm');
  for (const r of references) {
    const { model, x } = tableModel(r.z, r.task === 'multiclass' ? 'softmax' : 'sigmoid');
    const trainer = await OrtTrainer.create(model, { loss: trainLossOf(r.loss, r.task, r.weights), optimizer: { name: 'sgd' }, threads: 1, exposeGradients: true, runtime: ort });
    const loss = await trainer.step(x.dataSync() as Float32Array, Float32Array.from(r.y.flat()), r.z.length, 0);
    assertClose([loss], [torchRef[r.name].loss], 1e-6, `onnx ${r.name} loss`);
    assertClose(trainer.lastGradients()[0], torchRef[r.name].grad.flat(), 1e-6, `onnx ${r.name} gradient`);
    await trainer.dispose();
    x.dispose();
    model.dispose();
  }
});

test('a saturated wrong output (p < 1e-7 for the true class) gets a gradient in tfjs and ONNX Runtime; the probability form gives it none', needsOrt, async () => {
  await initBackend('wasm');
  for (const [loss, task, z, y, activation] of [
    ['bce', 'multilabel', [[-30, 1]], [1, 0], 'sigmoid'],
    ['ce', 'multiclass', [[30, -30]], [0, 1], 'softmax'],
  ] as const) {
    const { model, x } = tableModel(z.map((row) => [...row]), activation);
    const yt = tf.tensor2d([...y], [1, 2]);
    const kernel = model.trainableWeights[0].read() as tf.Variable;
    const fn = makeLoss(loss, task);
    const gradient = (objective: () => tf.Scalar) => Array.from(tf.variableGrads(objective, [kernel]).grads[kernel.name].dataSync());
    const before = gradient(() => fn(yt, model.apply(x, { training: true }) as tf.Tensor2D));
    assert.equal(before[0], 0, `${loss}: the clipped probability form passes no gradient to the saturated logit (got ${before})`);
    const tfjs = gradient(() => trainingObjective(model, fn)(x, yt));
    const trainer = await OrtTrainer.create(model, { loss: trainLossOf(loss, task), optimizer: { name: 'sgd' }, threads: 1, exposeGradients: true, runtime: ort });
    await trainer.step(x.dataSync() as Float32Array, Float32Array.from(y), 1, 0);
    const onnx = Array.from(trainer.lastGradients()[0]);
    // the true class's logit is pushed up by (nearly) 1 / (N K) for BCE, 1 / N for CE
    const want = loss === 'bce' ? [-0.5, 0.3655293] : [1, -1];
    assertClose(tfjs, want, 1e-6, `tfjs ${loss}`);
    assertClose(onnx, want, 1e-6, `onnx ${loss}`);
    await trainer.dispose();
    tf.dispose([x, yt]);
    model.dispose();
  }
});

test('on unsaturated outputs the logits forms give the loss of the probability forms (within 1e-6), soft targets and class weights included', async () => {
  await initBackend('wasm');
  const z = tf.randomUniform([6, 4], -6, 6, 'float32', 3) as tf.Tensor2D;
  const soft = tf.randomUniform([6, 4], 0, 1, 'float32', 4) as tf.Tensor2D;
  const rowSoft = tf.div(soft, tf.sum(soft, 1, true)) as tf.Tensor2D;
  for (const weights of [undefined, [0.5, 2, 1, 1.5]]) {
    const bce = binaryCrossEntropy(weights);
    const ce = crossEntropy(weights);
    const pairs = [
      ['bce', bce(soft, tf.sigmoid(z) as tf.Tensor2D), bce.logits!.loss(soft, z)],
      ['ce', ce(rowSoft, tf.softmax(z) as tf.Tensor2D), ce.logits!.loss(rowSoft, z)],
    ] as const;
    for (const [name, probabilities, logits] of pairs) {
      const [a, b] = [probabilities.dataSync()[0], logits.dataSync()[0]];
      assert.ok(Math.abs(a - b) <= 1e-6, `${name}${weights ? ' weighted' : ''}: ${b} from the logits vs ${a} from the probabilities`);
    }
  }
});

