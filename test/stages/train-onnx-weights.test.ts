import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainStage } from '../../src/stages/train.ts';
import { runStage, tempStore } from '../../src/testing/harness.ts';
import { initBackend } from '../../src/ml/backend.ts';
import { buildModel } from '../../src/ml/models/index.ts';
import { exportToOnnx } from '../../src/ml/onnx/export-model.ts';
import { importOnnxWeights } from '../../src/ml/import/onnx-weights.ts';
import { loadModel } from '../../src/ml/model-io.ts';
import * as tf from '../../src/ml/tf.ts';
import { syntheticDataset } from './train-fixtures.ts';

// ONNX files made by our own exporter (Pad nodes before strided convs, batch norms folded into the convs,
// NHWC->NCHW Transpose at the input): no PyTorch needed. test/ml/import covers real torchvision exports.
const spec = { arch: 'resnet18', inputSize: 32, channels: 1, classes: 2, task: 'binary', width: 0.25 } as const;

test('an ONNX export round-trips into a fresh model of the architecture: same predictions', async () => {
  await initBackend('wasm');
  const source = buildModel({ ...spec, seed: 1 });
  // non-trivial batch-norm statistics
  for (const layer of source.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    const [gamma, beta, mean, variance] = layer.getWeights();
    layer.setWeights([gamma, beta, tf.randomUniform(mean.shape, -0.2, 0.2, 'float32', 1), tf.randomUniform(variance.shape, 0.5, 1.5, 'float32', 2)]);
  }
  const { bytes } = await exportToOnnx(source);
  const target = buildModel({ ...spec, seed: 2 });
  const result = importOnnxWeights(target, bytes);
  assert.equal(result.foldedBatchNorms, 20);
  const x = tf.randomUniform([3, 32, 32, 1], 0, 1, 'float32', 4);
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(source.predict(x) as tf.Tensor, target.predict(x) as tf.Tensor))).dataSync()[0]);
  assert.ok(diff < 1e-5, `predictions differ by ${diff}`);
  x.dispose();
  source.dispose();
  target.dispose();
});

test('train with weights: x.onnx starts from the imported weights (auto stem keeps imagenet); a mismatch is a located stage error', async () => {
  await initBackend('wasm');
  const dir = await mkdtemp(join(tmpdir(), 'train-onnx-'));
  const source = buildModel({ ...spec, seed: 7 });
  await writeFile(join(dir, 'r18.onnx'), (await exportToOnnx(source)).bytes);
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 24, 32, 2, 13);
  const data = { name: 'data', artifact: { kind: 'dataset' as const, rows, meta: { classes } } };
  const params = { model: 'resnet18', width: 0.25, size: 32, batch: 8, epochs: 1, lr: 1e-9, seed: 3, fold: 0, backend: 'wasm', weights: join(dir, 'r18.onnx') } as const;
  const run = await runStage(trainStage, { store, params, inputs: [data] });
  assert.ok(run.logs.some((l) => /initialised 40 layers from ONNX weights .*r18\.onnx \(classifier kept fresh \(other class count\); 20 batch norms folded/.test(l)), run.logs.join('\n'));
  assert.equal((run.artifact.meta as { stem: string }).stem, 'imagenet');
  assert.ok(run.logs.some((l) => /ImageNet weights expect normalize: imagenet/.test(l)), run.logs.join('\n'));
  const normalized = await runStage(trainStage, { store, params: { ...params, normalize: 'imagenet' }, inputs: [data] });
  assert.ok(!normalized.logs.some((l) => l.includes('expect normalize')), normalized.logs.join('\n'));
  const { mean, std } = (normalized.artifact.meta as { normalize: { mean: number[]; std: number[] } }).normalize;
  // 1-channel input: the averages of ImageNet's three means and stds
  assert.ok(mean.length === 1 && Math.abs(mean[0] - 0.449) < 1e-9 && Math.abs(std[0] - 0.226) < 1e-9, JSON.stringify({ mean, std }));
  // lr 1e-9: the first conv's kernel is still the imported one (the exporter folded the batch norm into it)
  const trained = await loadModel(store, run.artifact);
  const imported = buildModel({ ...spec, classes: 3, seed: 9 });
  importOnnxWeights(imported, (await exportToOnnx(source)).bytes);
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(trained.getLayer('stem_conv').getWeights()[0], imported.getLayer('stem_conv').getWeights()[0]))).dataSync()[0]);
  assert.ok(diff < 1e-6, `stem kernel moved by ${diff}`);
  await assert.rejects(runStage(trainStage, { store, params: { ...params, model: 'resnet34' }, inputs: [data] }), (e: Error & { hint?: string }) => /weights .*r18\.onnx do not fit model resnet34: layer s1b3_1_conv/.test(e.message) && /stem: imagenet/.test(e.hint ?? ''));
  for (const m of [trained, source, imported]) m.dispose();
});

test('weights: a truncated or foreign .onnx and a model.json that is not a tfjs model are stage errors that say what is wrong with the file', async () => {
  await initBackend('wasm');
  const dir = await mkdtemp(join(tmpdir(), 'train-weights-'));
  const source = buildModel({ ...spec, seed: 7 });
  const bytes = (await exportToOnnx(source)).bytes;
  source.dispose();
  await writeFile(join(dir, 'truncated.onnx'), bytes.subarray(0, Math.floor(bytes.length / 2)));
  await writeFile(join(dir, 'image.onnx'), Buffer.from('\x89PNG\r\n\x1a\n not a model at all', 'latin1'));
  await writeFile(join(dir, 'model.json'), '{"x": 1}');
  await writeFile(join(dir, 'broken.json'), '{"modelTopology": ');
  await writeFile(join(dir, 'nobin.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['missing.bin'], weights: [] }] }));
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 24, 32, 2, 13);
  const data = { name: 'data', artifact: { kind: 'dataset' as const, rows, meta: { classes } } };
  const params = { model: 'resnet18', width: 0.25, size: 32, batch: 8, epochs: 1, seed: 3, fold: 0, backend: 'wasm' } as const;
  const fails = (weights: string, message: RegExp, hint: RegExp) =>
    assert.rejects(runStage(trainStage, { store, params: { ...params, weights: join(dir, weights) }, inputs: [data] }), (e: Error & { hint?: string }) => {
      assert.match(e.message, message);
      assert.match(e.hint ?? '', hint);
      assert.doesNotMatch(e.message, /do not fit|protobuf: protobuf/);
      return true;
    });
  await fails('truncated.onnx', /weights .*truncated\.onnx cannot be read as an ONNX model: .*ends before/, /export .* again|whole file/);
  await fails('image.onnx', /weights .*image\.onnx cannot be read as an ONNX model/, /export/);
  await fails('model.json', /weights .*model\.json: not a tfjs layers model\.json \(no modelTopology/, /model\.json that tfjs wrote/);
  await fails('broken.json', /weights .*broken\.json: not JSON/, /model\.json that tfjs wrote/);
  await fails('nobin.json', /weights .*nobin\.json: weight file missing\.bin \(listed in its weightsManifest\) cannot be read/, /next to the model\.json/);
});
