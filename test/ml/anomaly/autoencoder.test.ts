import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { buildAutoencoder, buildScoreModel, reconstructionLoss, residualMaps } from '../../../src/ml/anomaly/autoencoder.ts';
import { reconstructionTrainLoss } from '../../../src/ml/anomaly/anomaly-engine.ts';
import { createPredictor } from '../../../src/ml/inference/predictor.ts';
import { modelFromBytes, saveModelFiles } from '../../../src/ml/model-io.ts';
import { loadOnnxRuntime } from '../../../src/ml/onnx/runtime.ts';
import { OrtTrainer } from '../../../src/ml/onnx/training/ort-trainer.ts';
import { maxRelDiff } from '../max-rel-diff.ts';

const ort = await loadOnnxRuntime();
const needsOrt = { skip: ort ? false : 'onnxruntime-node is not installed' };
const spec = { inputSize: 32, channels: 1 as const, seed: 5, width: 0.25, bottleneck: 4 };

test('autoencoder: one ONNX Runtime step gives tfjs\'s reconstruction loss and every weight\'s gradient within 1e-3', needsOrt, async () => {
  await initBackend('wasm');
  for (const channels of [1, 3] as const) {
    const model = buildAutoencoder({ ...spec, channels });
    const n = 3;
    const pixels = spec.inputSize * spec.inputSize * channels;
    const x = tf.randomUniform([n, spec.inputSize, spec.inputSize, channels], 0, 1, 'float32', 11);
    const input = x.dataSync() as Float32Array;
    const trainer = await OrtTrainer.create(model, { loss: reconstructionTrainLoss(pixels), optimizer: { name: 'adam' }, threads: 1, exposeGradients: true, runtime: ort });
    const loss = await trainer.step(input, input, n, 1e-3);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => reconstructionLoss(x.reshape([n, pixels]) as tf.Tensor2D, model.apply(x, { training: true }) as tf.Tensor2D), vars);
    const expected = value.dataSync()[0];
    assert.ok(expected > 0.01, `a fresh autoencoder reconstructs noise badly (loss ${expected})`);
    assert.ok(Math.abs(loss - expected) <= 1e-4 * expected, `${channels} channels: loss ${loss} vs tfjs ${expected}`);
    const ours = trainer.lastGradients();
    for (const [i, v] of vars.entries()) assert.ok(maxRelDiff(ours[i], grads[v.name]) < 1e-3, `${channels} channels, ${v.name}: gradient differs by ${maxRelDiff(ours[i], grads[v.name])}`);
    await trainer.dispose();
    tf.dispose([x, value, ...Object.values(grads)]);
    model.dispose();
  }
});

test('score model: each image\'s score is its reconstruction MSE, the residual maps sum to it, and it survives save/load and ONNX export', async () => {
  await initBackend('wasm');
  const ae = buildAutoencoder({ ...spec, channels: 3 });
  const scorer = buildScoreModel(ae);
  const n = 4;
  const x = tf.randomUniform([n, spec.inputSize, spec.inputSize, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const reconstruction = (ae.predict(x) as tf.Tensor2D).reshape([n, -1]);
  const mse = tf.squaredDifference(reconstruction, x.reshape([n, -1])).mean(1).dataSync();
  const scores = (scorer.predict(x) as tf.Tensor2D).dataSync();
  assert.equal(scores.length, n);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(scores[i] - mse[i]) <= 1e-5 * mse[i], `image ${i}: score ${scores[i]} vs MSE ${mse[i]}`);
  assert.ok(new Set(Array.from(scores)).size === n, 'different images, different scores');
  const maps = residualMaps(scorer, x);
  assert.deepEqual([maps.height, maps.width, maps.maps.length], [spec.inputSize, spec.inputSize, n]);
  maps.maps.forEach((m, i) => {
    const mean = m.reduce((a, b) => a + b, 0) / (m.length * 3);
    assert.ok(Math.abs(mean - mse[i]) <= 1e-4 * mse[i], `image ${i}: residual map mean ${mean} vs MSE ${mse[i]}`);
  });
  const files = await saveModelFiles(scorer);
  const loaded = await modelFromBytes(files['model.json'] as string, files['weights.bin'] as Uint8Array);
  assert.ok(maxRelDiff((loaded.predict(x) as tf.Tensor).dataSync() as Float32Array, scores as Float32Array) < 1e-5, 'saved and loaded');
  if (ort) {
    const predictor = await createPredictor(loaded, { engine: 'onnxruntime', threads: 1 });
    const viaOrt = await predictor.predict(x.dataSync() as Float32Array, n);
    await predictor.dispose();
    assert.ok(maxRelDiff(viaOrt, scores as Float32Array) < 1e-4, `ONNX Runtime scores ${Array.from(viaOrt)} vs tfjs ${Array.from(scores)}`);
  }
  tf.dispose([x, reconstruction]);
  loaded.dispose();
  ae.dispose();
});
