import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../src/ml/tf.ts';
import { initBackend } from '../../src/ml/backend.ts';
import { loadModel, saveModelFiles } from '../../src/ml/model-io.ts';
import { commitArtifact } from '../../src/engine/artifact.ts';
import { tempStore } from '../../src/testing/harness.ts';

test('a saved model loads back from the store with identical predictions', async () => {
  await initBackend('cpu');
  const input = tf.input({ shape: [4, 4, 1] });
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(tf.layers.globalAveragePooling2d({}).apply(conv) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  const files = await saveModelFiles(model);
  assert.deepEqual(Object.keys(files).sort(), ['model.json', 'weights.bin']);
  assert.equal((files['weights.bin'] as Uint8Array).byteLength, (3 * 3 * 1 * 2 + 2 + 2 * 3 + 3) * 4);
  const store = await tempStore();
  const artifact = await commitArtifact(store, { kind: 'model', files, meta: {} });
  const loaded = await loadModel(store, artifact);
  const x = tf.randomUniform([2, 4, 4, 1], 0, 1, 'float32', 7);
  const a = await (model.predict(x) as tf.Tensor).data();
  const b = await (loaded.predict(x) as tf.Tensor).data();
  assert.deepEqual(Array.from(b), Array.from(a));
});
