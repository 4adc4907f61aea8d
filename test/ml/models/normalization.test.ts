import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { gradCam } from '../../../src/ml/gradcam.ts';
import { createPredictor } from '../../../src/ml/inference/predictor.ts';
import { inputNormalizationOf } from '../../../src/ml/layers/input-normalization.ts';
import { modelFromBytes, saveModelFiles } from '../../../src/ml/model-io.ts';
import { buildModel, type ModelSpec } from '../../../src/ml/models/index.ts';
import { NORMALIZATION_PRESETS, resolveNormalization, type InputNormalization } from '../../../src/ml/normalize-param.ts';
import { loadOnnxRuntime } from '../../../src/ml/onnx/runtime.ts';
import { TrainParams } from '../../../src/stages/train-params.ts';
import { fingerprint } from '../../../src/util/hash.ts';

await initBackend('wasm');
const ort = await loadOnnxRuntime();

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** (x - mean) / std per channel, computed here in float64 from the definition. */
function normalizedByHand(x: Float32Array, n: InputNormalization): Float32Array {
  const c = n.mean.length;
  return x.map((v, i) => (v - n.mean[i % c]) / n.std[i % c]);
}

test('resolveNormalization: presets, one entry for every channel, imagenet on grey, none', () => {
  assert.equal(resolveNormalization(undefined, 3), undefined);
  assert.equal(resolveNormalization('none', 1), undefined);
  assert.deepEqual(resolveNormalization('symmetric', 3), { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
  assert.deepEqual(resolveNormalization('imagenet', 3), { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
  const grey = resolveNormalization('imagenet', 1)!;
  assert.ok(Math.abs(grey.mean[0] - 0.449) < 1e-12 && Math.abs(grey.std[0] - (0.229 + 0.224 + 0.225) / 3) < 1e-12, JSON.stringify(grey));
  assert.deepEqual(resolveNormalization({ mean: [0.2], std: [0.3] }, 3), { mean: [0.2, 0.2, 0.2], std: [0.3, 0.3, 0.3] });
  assert.deepEqual(resolveNormalization({ mean: [0.1, 0.2, 0.3], std: [1, 2, 3] }, 3), { mean: [0.1, 0.2, 0.3], std: [1, 2, 3] });
  assert.throws(() => resolveNormalization({ mean: [0.1, 0.2], std: [1] }, 3), /mean has 2 entries for 3 input channels/);
  assert.deepEqual(NORMALIZATION_PRESETS.symmetric, { mean: [0.5], std: [0.5] });
});

test('train params: normalize none and left out parse alike (same cache key); a wrong entry count is an error at normalize.mean / .std', () => {
  assert.equal(fingerprint(TrainParams.parse({ normalize: 'none' })), fingerprint(TrainParams.parse({})));
  assert.equal(TrainParams.parse({}).normalize, undefined);
  assert.equal(TrainParams.parse({ normalize: 'imagenet', channels: 1 }).normalize, 'imagenet');
  const bad = TrainParams.safeParse({ channels: 3, normalize: { mean: [0.5, 0.5], std: [0.5] } });
  assert.ok(!bad.success);
  assert.deepEqual(bad.error.issues.map((i) => [i.path.join('.'), i.message]), [['normalize.mean', 'mean has 2 entries for 3 input channels (give 3, or one for all)']]);
  const grey = TrainParams.safeParse({ channels: 1, normalize: { mean: [0.5], std: [0.2, 0.3, 0.4] } });
  assert.deepEqual(grey.success ? [] : grey.error.issues.map((i) => i.path.join('.')), ['normalize.std']);
  assert.ok(!TrainParams.safeParse({ normalize: { mean: [0.5], std: [0] } }).success, 'std must be positive');
  assert.ok(!TrainParams.safeParse({ normalize: 'unit' }).success);
});

// The same architecture and seed with and without the layer: it takes no seed, so the weights are equal.
const SPECS: Array<[ModelSpec, InputNormalization]> = [
  [{ arch: 'resnet18', inputSize: 28, channels: 1, classes: 2, task: 'multiclass', seed: 1, width: 0.25, stem: 'small', init: 'torch' }, resolveNormalization('symmetric', 1)!],
  [{ arch: 'small-cnn', inputSize: 32, channels: 3, classes: 3, task: 'multilabel', seed: 2, width: 0.5 }, resolveNormalization('imagenet', 3)!],
];

for (const [spec, normalize] of SPECS) {
  test(`${spec.arch} ${spec.channels}-channel: the model with normalize equals the model on the normalised input (tfjs, ONNX Runtime, saved and loaded)`, async () => {
    const plain = buildModel(spec);
    const withLayer = buildModel({ ...spec, normalize });
    assert.equal(withLayer.layers[1].name, 'normalize');
    assert.deepEqual(inputNormalizationOf(withLayer), normalize);
    assert.equal(inputNormalizationOf(plain), undefined);
    assert.equal(withLayer.getWeights().length, plain.getWeights().length);
    for (const [i, w] of withLayer.getWeights().entries()) assert.equal(maxAbsDiff(w.dataSync(), plain.getWeights()[i].dataSync()), 0);

    const n = 4;
    const x = tf.randomUniform([n, spec.inputSize, spec.inputSize, spec.channels], 0, 1, 'float32', 7) as tf.Tensor4D;
    const xs = x.dataSync() as Float32Array;
    const want = (plain.predict(tf.tensor4d(normalizedByHand(xs, normalize), x.shape)) as tf.Tensor).dataSync();
    const got = (withLayer.predict(x) as tf.Tensor).dataSync();
    assert.ok(maxAbsDiff(got, want) <= 1e-5, `tfjs: ${maxAbsDiff(got, want)}`);
    // without the layer the logits differ (else this test could not see a layer that does nothing)
    const logits = (m: tf.LayersModel, input: tf.Tensor) => (tf.model({ inputs: m.inputs, outputs: m.getLayer('logits').output as tf.SymbolicTensor }).predict(input) as tf.Tensor).dataSync();
    assert.ok(maxAbsDiff(logits(plain, x), logits(withLayer, x)) > 1e-3, `${maxAbsDiff(logits(plain, x), logits(withLayer, x))}`);

    const loaded = await (async () => {
      const files = await saveModelFiles(withLayer);
      return modelFromBytes(files['model.json'] as string, files['weights.bin'] as Uint8Array);
    })();
    assert.deepEqual(inputNormalizationOf(loaded), normalize);
    assert.ok(maxAbsDiff((loaded.predict(x) as tf.Tensor).dataSync(), want) <= 1e-5, 'saved and loaded');

    if (ort) {
      const predictor = await createPredictor(loaded, { engine: 'onnxruntime', threads: 1 });
      const onnx = await predictor.predict(xs, n);
      await predictor.dispose();
      assert.ok(maxAbsDiff(onnx, want) <= 1e-5, `ONNX Runtime: ${maxAbsDiff(onnx, want)}`);
    }
    for (const m of [plain, withLayer, loaded]) m.dispose();
  });
}

test('Grad-CAM of a model with normalize is the Grad-CAM of the model without it on the normalised input', () => {
  const [spec, normalize] = SPECS[0];
  const plain = buildModel(spec);
  const withLayer = buildModel({ ...spec, normalize });
  const x = tf.randomUniform([2, spec.inputSize, spec.inputSize, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  const a = gradCam(withLayer, x, 1);
  const b = gradCam(plain, tf.tensor4d(normalizedByHand(x.dataSync() as Float32Array, normalize), x.shape), 1);
  assert.ok(maxAbsDiff(a.scores, b.scores) <= 1e-5);
  for (const [i, map] of a.maps.entries()) assert.ok(maxAbsDiff(map, b.maps[i]) <= 1e-4, `map ${i}: ${maxAbsDiff(map, b.maps[i])}`);
});

test('the layer refuses a channel count other than its entries', () => {
  assert.throws(() => buildModel({ arch: 'small-cnn', inputSize: 16, channels: 1, classes: 2, task: 'binary', normalize: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } }), /InputNormalization normalize: 3 channel means for an input of shape \[.*16.*1\]/);
});
