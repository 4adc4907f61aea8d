import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { createPredictor } from '../../../src/ml/inference/predictor.ts';
import { buildModel } from '../../../src/ml/models/index.ts';
import { UnsupportedLayerError } from '../../../src/ml/onnx/export-model.ts';
import { loadOnnxRuntime } from '../../../src/ml/onnx/runtime.ts';

const needsOrt = { skip: (await loadOnnxRuntime()) ? false : 'onnxruntime-node is not installed' };

function croppedModel(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 1] });
  const cropped = tf.layers.cropping2D({ name: 'crop_me', cropping: 1 }).apply(input) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, activation: 'softmax' }).apply(tf.layers.flatten().apply(cropped)) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

test('auto on a model with an unsupported layer falls back to tfjs and says why; onnxruntime refuses it', needsOrt, async () => {
  await initBackend('cpu');
  const model = croppedModel();
  const logs: string[] = [];
  const predictor = await createPredictor(model, { engine: 'auto', log: (m) => logs.push(m) });
  assert.equal(predictor.engine, 'tfjs');
  assert.match(logs.join('\n'), /inference engine: tfjs \(layer crop_me \(Cropping2D\) is not supported/);
  const x = tf.randomUniform([3, 8, 8, 1], 0, 1, 'float32', 1);
  assert.deepEqual(await predictor.predict(x.dataSync() as Float32Array, 3), (model.predict(x) as tf.Tensor).dataSync());
  await assert.rejects(createPredictor(model, { engine: 'onnxruntime' }), UnsupportedLayerError);
});

test('without onnxruntime-node: auto uses tfjs and logs it, onnxruntime fails', async () => {
  await initBackend('cpu');
  const model = buildModel({ arch: 'small-cnn', inputSize: 16, channels: 1, classes: 2, task: 'binary', width: 0.25 });
  const missing = async () => undefined;
  const logs: string[] = [];
  const predictor = await createPredictor(model, { engine: 'auto', loadRuntime: missing, log: (m) => logs.push(m) });
  assert.equal(predictor.engine, 'tfjs');
  assert.match(logs.join('\n'), /inference engine: tfjs \(onnxruntime-node is not available/);
  await assert.rejects(createPredictor(model, { engine: 'onnxruntime', loadRuntime: missing }), /onnxruntime-node is not available/);
  assert.equal((await createPredictor(model, { engine: 'tfjs', loadRuntime: () => assert.fail('tfjs needs no runtime') })).engine, 'tfjs');
});

test('the onnxruntime predictor gives the tfjs predictor\'s scores ([n, classes] row-major) and checks the batch size', needsOrt, async () => {
  await initBackend('cpu');
  const model = buildModel({ arch: 'small-cnn', inputSize: 32, channels: 3, classes: 4, task: 'multiclass', seed: 3, width: 0.5 });
  const logs: string[] = [];
  const ort = await createPredictor(model, { engine: 'auto', threads: 1, log: (m) => logs.push(m) });
  const tfjs = await createPredictor(model, { engine: 'tfjs' });
  assert.equal(ort.engine, 'onnxruntime');
  assert.deepEqual(logs, ['inference engine: onnxruntime (1 thread)']);
  const x = tf.randomUniform([5, 32, 32, 3], 0, 1, 'float32', 2).dataSync() as Float32Array;
  const [got, want] = [await ort.predict(x, 5), await tfjs.predict(x, 5)];
  assert.equal(got.length, 5 * 4);
  let d = 0;
  for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(got[i] - want[i]));
  assert.ok(d < 1e-5, `max abs difference ${d}`);
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(got.subarray(i * 4, i * 4 + 4).reduce((a, b) => a + b) - 1) < 1e-5, 'softmax rows sum to 1');
  await assert.rejects(ort.predict(x, 4), /15360 values for 4 inputs of shape \[32, 32, 3\]/);
  await ort.dispose();
  await tfjs.dispose();
});

test('auto keeps tfjs when tfjs runs on native TensorFlow (tfjs-node, maybe on a GPU); onnxruntime still forces ONNX Runtime', needsOrt, async () => {
  await initBackend('cpu');
  const model = buildModel({ arch: 'small-cnn', inputSize: 16, channels: 1, classes: 2, task: 'binary', width: 0.25 });
  // tfjs-node registers its backend as 'tensorflow'; stand in for it with the cpu kernels under that name.
  const CpuBackend = tf.findBackend('cpu')!.constructor as new () => tf.KernelBackend;
  tf.registerBackend('tensorflow', () => new CpuBackend(), 0);
  try {
    await tf.setBackend('tensorflow');
    const logs: string[] = [];
    const auto = await createPredictor(model, { engine: 'auto', log: (m) => logs.push(m) });
    assert.equal(auto.engine, 'tfjs');
    assert.match(logs.join('\n'), /inference engine: tfjs \(tfjs runs on native TensorFlow/);
    const forced = await createPredictor(model, { engine: 'onnxruntime' });
    assert.equal(forced.engine, 'onnxruntime');
    await forced.dispose();
  } finally {
    await tf.setBackend('cpu');
    tf.removeBackend('tensorflow');
  }
});
