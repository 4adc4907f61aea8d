import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { asymmetricLoss, binaryCrossEntropy, crossEntropy, focalLoss, makeLoss, type LossConfig } from '../../../src/ml/losses/index.ts';
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
  // focal and ASL (focal-asl-reference.py prints them): torchvision.ops.sigmoid_focal_loss on 0/1 targets (class
  // weights times its per-element terms); the linear-in-y focal / ASL on soft targets; the softmax focal from
  // log_softmax; ASL as the Alibaba-MIIL reference code's formula with log p = log_sigmoid(z) unclamped
  // (asl_reference_*: with the code's clamps at eps = 1e-8, of which none applies to asl_reference_mild's input).
  focal: {loss: 4.142279982196623, grad: [[-0.006012763728602567, 0.003195524413882351, 0.09375000000049954, -0.03394987040890111], [-0.03125000000016668, 0.10094191222954518, -0.009321462348124573, 0.09013356445034626]]},
  focal_weighted: {loss: 4.532457489568806, grad: [[-0.0030063818643012836, 0.006391048827764702, 0.11718750000062442, -0.03394987040890111], [-0.01562500000008334, 0.20188382445909037, -0.011651827935155717, 0.09013356445034626]]},
  focal_a05_g05: {loss: 4.280927219757161, grad: [[-0.023842495758635205, 0.010002601400614918, 0.06250000000007887, -0.06305947269049786], [-0.06250000000007895, 0.05910048757017452, -0.029755353657927634, 0.0549732802408369]]},
  focal_soft: {loss: 4.067432933345158, grad: [[-0.006012763728602568, 0.003195524413882351, 0.09375000000049953, -0.027159571004660484], [-0.03125000000016668, 0.07061367349634982, -0.005592877408874744, 0.08560027512591764]]},
  focal_softmax: {loss: 7.250924395840634, grad: [[-0.002273722840034901, 0.000414785080083843, 0.0018589377599510584], [0.08333333333332554, -0.08333333333333333, 7.798019140699425e-15], [-0.008333333333333333, 0.06666666666697703, -0.05833333333364369]]},
  focal_softmax_weighted_g05: {loss: 11.384311331769133, grad: [[-0.011930513722305074, 0.0021764302150704255, 0.00975408350723465], [0.1666666666666511, -0.16666666666666666, 1.559603828139885e-14], [-0.008333333333333333, 0.03750000000003607, -0.029166666666702732]]},
  asl: {loss: 4.790194046951853, grad: [[-0.03957698982966025, 0.0001359188307781971, 3.1059715870782975e-13, -0.1294153106902983], [-0.12500000000032752, 0.09043624182400481, -0.052910849392498294, 0.07705351723250885]]},
  asl_weighted_clip0: {loss: 7.5398774837355695, grad: [[-0.019788494914830125, 0.0007470307560269282, 0.1562500000016797, -0.1294153106902983], [-0.06250000000016376, 0.28512756875074535, -0.06613856174062287, 0.11499967294430118]]},
  asl_soft: {loss: 4.653412093237813, grad: [[-0.03957698982966025, 0.00013591883077819725, 3.1059715870782975e-13, -0.10353224855223865], [-0.12500000000032752, 0.06227277064232277, -0.04670580068775708, 0.07280509669871461]]},
  asl_reference_mild: {loss: 1.2866682523233557, grad: [[-0.039576989829660236, 0.00013591883077819703, 0.04372583107646359, -0.12941531069029832], [-0.1293534822959478, 0.0904362418240048, -0.052910849392498294, 0.07705351723250885]]},
  asl_reference_saturated: {loss: 3.342779139946023, grad: [[-0.039576989829660236, 0.00013591883077819703, 3.104027950872068e-13, -0.12941531069029832], [-2.154672315390604e-13, 0.0904362418240048, -0.052910849392498294, 0.07705351723250885]]},
  focal_saturated: {loss: 4.0132006137785785, grad: [[-0.12500000000066672, 0.28808802119974414]]},
  focal_softmax_saturated: {loss: 15.0, grad: [[0.25, -0.25]]},
  asl_saturated: {loss: 15.122930112336684, grad: [[-0.5000000000013101, 0.20826695002607004]]},
  asl_reference_code_saturated: {loss: 9.333270484313363, grad: [[-8.618689261562416e-13, 0.20826695002607]]},
};
const bceZ = [[0.3, -1.2, 30], [-30, 2, 0]];
const bceY = [[1, 0, 0], [1, 0.3, 0.9]];
const bceW = [0.5, 2, 1.25];
const ceZ = [[2, -1, 0.5], [30, -30, 0], [-30, 30, 0]];
const ceY = [[1, 0, 0], [0, 1, 0], [0.1, 0.2, 0.7]];
const ceW = [1, 2, 0.5];
const sigZ = [[0.3, -1.2, 30, -4], [-30, 2, 0, 1.5]];
const sigMild = [[0.3, -1.2, 4, -4], [-2.5, 2, 0, 1.5]];
const sigHard = [[1, 0, 0, 1], [1, 0, 1, 0]];
const sigSoft = [[1, 0, 0, 0.8], [1, 0.3, 0.9, 0.05]];
const sigW = [0.5, 2, 1.25, 1];

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
  { name: 'focal', loss: { focal: { alpha: 0.25, gamma: 2 } }, task: 'multilabel', z: sigZ, y: sigHard },
  { name: 'focal_weighted', loss: 'focal', task: 'multilabel', z: sigZ, y: sigHard, weights: sigW },
  { name: 'focal_a05_g05', loss: { focal: { alpha: 0.5, gamma: 0.5 } }, task: 'multilabel', z: sigZ, y: sigHard },
  { name: 'focal_soft', loss: 'focal', task: 'multilabel', z: sigZ, y: sigSoft },
  { name: 'focal_softmax', loss: 'focal', task: 'multiclass', z: ceZ, y: ceY },
  { name: 'focal_softmax_weighted_g05', loss: { focal: { alpha: 0.25, gamma: 0.5 } }, task: 'multiclass', z: ceZ, y: ceY, weights: ceW },
  { name: 'asl', loss: 'asl', task: 'multilabel', z: sigZ, y: sigHard },
  { name: 'asl_weighted_clip0', loss: { asl: { gamma_neg: 4, gamma_pos: 1, clip: 0 } }, task: 'multilabel', z: sigZ, y: sigHard, weights: sigW },
  { name: 'asl_soft', loss: 'asl', task: 'multilabel', z: sigZ, y: sigSoft },
  { name: 'asl_reference_mild', loss: { asl: { gamma_neg: 4, gamma_pos: 1, clip: 0.05 } }, task: 'multilabel', z: sigMild, y: sigHard },
];

/** Largest |got - want| over the flattened values, relative to max(1, |want|) for the loss. */
function assertClose(got: ArrayLike<number>, want: number[], tolerance: number, what: string): void {
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= tolerance * Math.max(1, Math.abs(want[i])), `${what}[${i}]: ${got[i]} vs PyTorch ${want[i]}`);
}

test('tfjs BCE / CE / focal / ASL from the logits equal PyTorch (BCEWithLogitsLoss, CrossEntropyLoss, torchvision sigmoid_focal_loss, the ASL reference formula; loss and gradient, saturated logits included)', async () => {
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

test('the ONNX training graph computes BCE / CE / focal / ASL from the logits: loss and gradient equal PyTorch (saturated logits included)', needsOrt, async () => {
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
  // the true class's logit is pushed up by (nearly) 1 / (N K) for BCE, 1 / N for CE, alpha times that for focal, 1 / (N K) for ASL
  for (const [loss, task, z, y, activation, want] of [
    ['bce', 'multilabel', [[-30, 1]], [1, 0], 'sigmoid', [-0.5, 0.3655293]],
    ['ce', 'multiclass', [[30, -30]], [0, 1], 'softmax', [1, -1]],
    ['focal', 'multilabel', [[-30, 1]], [1, 0], 'sigmoid', torchRef.focal_saturated.grad[0]],
    ['focal', 'multiclass', [[30, -30]], [0, 1], 'softmax', torchRef.focal_softmax_saturated.grad[0]],
    ['asl', 'multilabel', [[-30, 1]], [1, 0], 'sigmoid', torchRef.asl_saturated.grad[0]],
  ] as const) {
    const { model, x } = tableModel(z.map((row) => [...row]), activation);
    const yt = tf.tensor2d([...y], [1, 2]);
    const kernel = model.trainableWeights[0].read() as tf.Variable;
    const fn = makeLoss(loss, task);
    const gradient = (objective: () => tf.Scalar) => Array.from(tf.variableGrads(objective, [kernel]).grads[kernel.name].dataSync());
    const before = gradient(() => fn(yt, model.apply(x, { training: true }) as tf.Tensor2D));
    assert.equal(before[0], 0, `${loss} ${task}: the clipped probability form passes no gradient to the saturated logit (got ${before})`);
    const tfjs = gradient(() => trainingObjective(model, fn)(x, yt));
    const trainer = await OrtTrainer.create(model, { loss: trainLossOf(loss, task), optimizer: { name: 'sgd' }, threads: 1, exposeGradients: true, runtime: ort });
    await trainer.step(x.dataSync() as Float32Array, Float32Array.from(y), 1, 0);
    const onnx = Array.from(trainer.lastGradients()[0]);
    assertClose(tfjs, [...want], 1e-6, `tfjs ${loss} ${task}`);
    assertClose(onnx, [...want], 1e-6, `onnx ${loss} ${task}`);
    await trainer.dispose();
    tf.dispose([x, yt]);
    model.dispose();
  }
});

test('ASL differs from its reference code only where that code clamps p at 1e-8: there the code has no gradient, the logits form has one', async () => {
  await initBackend('cpu');
  // the same input, z = -30 for a positive: log p = -30 exactly, where the code's log(max(p, 1e-8)) = -18.42
  const code = torchRef.asl_reference_code_saturated;
  const ours = torchRef.asl_saturated;
  assert.ok(Math.abs(code.grad[0][0]) < 1e-12 && ours.grad[0][0] < -0.49, `${code.grad[0][0]} vs ${ours.grad[0][0]}`);
  assert.ok(Math.abs(code.grad[0][1] - ours.grad[0][1]) < 1e-12, 'the negative, unclamped, has the same gradient');
  const fn = makeLoss('asl', 'multilabel').logits!;
  const value = fn.loss(tf.tensor2d([[1, 0]]), tf.tensor2d([[-30, 1]]));
  assertClose(value.dataSync(), [ours.loss], 1e-6, 'asl at z = -30');
});

test('on unsaturated outputs the logits forms give the loss and gradient of the probability forms (within 1e-6), soft targets and class weights included', async () => {
  await initBackend('wasm');
  const z = tf.randomUniform([6, 4], -6, 6, 'float32', 3) as tf.Tensor2D;
  const soft = tf.randomUniform([6, 4], 0, 1, 'float32', 4) as tf.Tensor2D;
  const rowSoft = tf.div(soft, tf.sum(soft, 1, true)) as tf.Tensor2D;
  for (const weights of [undefined, [0.5, 2, 1, 1.5]]) {
    const cases = [
      ['bce', binaryCrossEntropy(weights), soft, tf.sigmoid],
      ['ce', crossEntropy(weights), rowSoft, tf.softmax],
      ['focal', focalLoss({ alpha: 0.25, gamma: 2 }, weights), soft, tf.sigmoid],
      ['focal gamma 0.5', focalLoss({ alpha: 0.6, gamma: 0.5 }, weights), soft, tf.sigmoid],
      ['softmax focal', focalLoss({ softmax: true }, weights), rowSoft, tf.softmax],
      ['asl', asymmetricLoss({}, weights), soft, tf.sigmoid],
      ['asl clip 0', asymmetricLoss({ clip: 0, gamma_neg: 2, gamma_pos: 0 }, weights), soft, tf.sigmoid],
    ] as const;
    for (const [name, fn, y, activation] of cases) {
      const probabilities = tf.valueAndGrad((t: tf.Tensor) => fn(y, activation(t as tf.Tensor2D) as tf.Tensor2D))(z);
      const logits = tf.valueAndGrad((t: tf.Tensor) => fn.logits!.loss(y, t as tf.Tensor2D))(z);
      const what = `${name}${weights ? ' weighted' : ''}`;
      assertClose(logits.value.dataSync(), [probabilities.value.dataSync()[0]], 1e-6, `${what} loss from the logits`);
      assertClose(logits.grad.dataSync(), Array.from(probabilities.grad.dataSync()), 1e-6, `${what} gradient from the logits`);
    }
  }
});
