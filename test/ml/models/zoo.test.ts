import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { architectures, buildModel, resolveStem } from '../../../src/ml/models/index.ts';

const trainableParams = (m: tf.LayersModel) => m.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);

test('trainable parameter counts equal the torchvision reference models (3 channels, 1000 classes)', async () => {
  await initBackend('cpu');
  // torchvision: resnet18 11,689,512; resnet34 21,797,672; resnet50 25,557,032; densenet121 7,978,856;
  // mobilenet_v2 3,504,872; efficientnet_b0 5,288,548.
  const expected = { resnet18: 11_689_512, resnet34: 21_797_672, resnet50: 25_557_032, densenet121: 7_978_856, mobilenetv2: 3_504_872, 'efficientnet-b0': 5_288_548 } as const;
  for (const [arch, count] of Object.entries(expected)) {
    const model = buildModel({ arch: arch as keyof typeof expected, inputSize: 64, channels: 3, classes: 1000, task: 'multiclass' });
    assert.equal(trainableParams(model), count, arch);
    model.dispose();
  }
});

test('every architecture builds (1 or 3 channels, even or odd size) and trains one step on wasm', async () => {
  await initBackend('wasm');
  assert.equal(tf.getBackend(), 'wasm');
  for (const [k, arch] of architectures.entries()) {
    for (const [channels, size] of [k % 2 ? ([1, 32] as const) : ([3, 33] as const)]) {
      // Narrow ResNets keep the test fast; their full-width structure is checked by the parameter counts.
      const model = buildModel({ arch, inputSize: size, channels, classes: 3, task: 'multilabel', seed: 1, width: arch.startsWith('resnet') ? 0.25 : 1 });
      // Batch 4: with 2 images, batch norm over a 1x1 feature map (the last stages at 32 px) maps any
      // input to +-1 and the gradients upstream of it vanish to float noise.
      const x = tf.randomUniform([4, size, size, channels], 0, 1, 'float32', 3);
      const y = tf.tensor2d([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]]);
      const optimizer = tf.train.adam(1e-3);
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const before = vars.map((v) => v.dataSync().slice());
      const loss = optimizer.minimize(() => tf.losses.sigmoidCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor), true, vars)!;
      assert.ok(Number.isFinite(loss.dataSync()[0]), `${arch} loss`);
      const changed = vars.filter((v, i) => v.dataSync().some((val, j) => val !== before[i][j])).length;
      assert.equal(changed, vars.length, `${arch} ${channels}ch ${size}px: ${vars.length - changed} weights got no gradient`);
      const probs = model.predict(x) as tf.Tensor;
      assert.deepEqual(probs.shape, [4, 3]);
      tf.dispose([x, y, loss, probs]);
      optimizer.dispose();
      model.dispose();
    }
  }
});

test('initialisation is seeded: same seed same weights, other seed other weights', async () => {
  await initBackend('cpu');
  const spec = { arch: 'small-cnn', inputSize: 32, channels: 1, classes: 2, task: 'binary' } as const;
  const a = buildModel({ ...spec, seed: 7 }).getWeights().map((w) => w.dataSync());
  const b = buildModel({ ...spec, seed: 7 }).getWeights().map((w) => w.dataSync());
  const c = buildModel({ ...spec, seed: 8 }).getWeights().map((w) => w.dataSync());
  assert.deepEqual(a, b);
  assert.notDeepEqual(a[0], c[0]);
});

test('stem: auto is small below 64 px and imagenet from 64 px or with imported weights; the small stem keeps the full resolution', async () => {
  assert.deepEqual([27, 28, 63, 64, 224].map((size) => resolveStem('auto', size)), ['small', 'small', 'small', 'imagenet', 'imagenet']);
  assert.equal(resolveStem('auto', 28, true), 'imagenet');
  assert.equal(resolveStem('imagenet', 28), 'imagenet');
  assert.equal(resolveStem('small', 224), 'small');
  await initBackend('cpu');
  // what the first residual block sees at 28 px: 28 x 28 after the small stem, 7 x 7 after the ImageNet one
  for (const [arch, stem, side] of [['resnet18', 'small', 28], ['resnet18', 'imagenet', 7], ['densenet121', 'small', 28], ['densenet121', 'imagenet', 7], ['mobilenetv2', 'small', 28], ['mobilenetv2', 'imagenet', 14]] as const) {
    const model = buildModel({ arch, inputSize: 28, channels: 1, classes: 2, task: 'multiclass', seed: 1, stem, width: arch === 'resnet18' ? 0.25 : 1 });
    const first = model.getLayer(arch === 'resnet18' ? 's1b1_1_conv' : arch === 'densenet121' ? 'd1l1_bn1' : 'ir1_dw');
    assert.deepEqual((first.input as tf.SymbolicTensor).shape.slice(1, 3), [side, side], `${arch} ${stem}`);
    model.dispose();
  }
});
