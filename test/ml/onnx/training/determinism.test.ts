import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { initBackend } from '../../../../src/ml/backend.ts';
import { buildModel, type ModelSpec } from '../../../../src/ml/models/index.ts';
import { OrtTrainer, trainLossOf } from '../../../../src/ml/onnx/training/ort-trainer.ts';
import { batch, needsOrt, ort } from './step-fixtures.ts';

/**
 * Training steps give the same bits on 1, 2 and 3 ONNX Runtime threads (graph-ops.ts, thread-invariant
 * products): the engine gives each training job its share of the cores, which differs between an
 * uninterrupted run and a resumed or partly cached one, and exact resume needs equal bits. The pool
 * spins on 2 threads and sleeps on 3 (pool-spin.ts: auto chooses by the machine's load, so both).
 */
const specs: ModelSpec[] = [
  { arch: 'small-cnn', inputSize: 32, channels: 1, classes: 3, task: 'multilabel', seed: 1 },
  { arch: 'resnet18', inputSize: 64, channels: 1, classes: 3, task: 'multilabel', seed: 2, width: 0.5 },
  { arch: 'efficientnet-b0', inputSize: 32, channels: 1, classes: 20, task: 'multilabel', seed: 3 },
  { arch: 'densenet121', inputSize: 32, channels: 1, classes: 3, task: 'multilabel', seed: 4 },
];

for (const spec of specs) {
  test(`${spec.arch} ${spec.inputSize} px: two Adam steps give bit-identical weights and moving stats on 1, 2 and 3 threads`, needsOrt, async () => {
    await initBackend('wasm');
    const { xs, ys } = batch(spec, 8, 5);
    const digests: string[] = [];
    for (const [threads, spin] of [[1, 'auto'], [2, 'on'], [3, 'off']] as const) {
      const model = buildModel(spec);
      const trainer = await OrtTrainer.create(model, { loss: trainLossOf('bce', spec.task), optimizer: { name: 'adam' }, threads, runtime: ort, spin });
      for (let i = 0; i < 2; i++) await trainer.step(xs, ys, 8, 1e-3);
      trainer.writeToModel();
      const hash = createHash('sha256');
      for (const w of model.weights) hash.update(w.read().dataSync() as Float32Array);
      digests.push(hash.digest('hex'));
      await trainer.dispose();
      model.dispose();
    }
    assert.deepEqual(new Set(digests).size, 1, `weights after 2 steps on 1/2/3 threads: ${digests.map((d) => d.slice(0, 12)).join(' ')}`);
  });
}
