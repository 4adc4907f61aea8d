import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../src/ml/tf.ts';
import { initBackend } from '../../src/ml/backend.ts';
import { gradCam } from '../../src/ml/gradcam.ts';
import { buildModel } from '../../src/ml/models/index.ts';
import { argmaxPixel } from '../../src/ops/report/heatmap.ts';
import { blobDetector, blobImage } from './blob-fixture.ts';

test('Grad-CAM of a bright-blob detector peaks on the blob, and ignores the negatively weighted channel', async () => {
  await initBackend('cpu');
  const model = blobDetector();
  for (const [cx, cy] of [[8, 20], [24, 6], [16, 16]]) {
    const x = tf.tensor4d(blobImage(cx, cy, 1), [1, 32, 32, 1]);
    const cam = gradCam(model, x, 0);
    x.dispose();
    const peak = argmaxPixel(cam.maps[0], cam.width);
    assert.ok(Math.abs(peak.x - cx) <= 1 && Math.abs(peak.y - cy) <= 1, `peak ${JSON.stringify(peak)} vs blob (${cx}, ${cy})`);
    assert.equal(Math.max(...cam.maps[0]), 1);
    // far from the blob the CAM is 0: the dark-background channel has a negative weight
    assert.equal(cam.maps[0][(cy > 16 ? 0 : 31) * 32 + (cx > 16 ? 0 : 31)], 0);
    assert.ok(cam.scores[0] > 0, `blob logit ${cam.scores[0]}`);
  }
  const empty = tf.tensor4d(blobImage(-10, -10, 2), [1, 32, 32, 1]);
  assert.ok(gradCam(model, empty, 0).scores[0] < 0);
  empty.dispose();
  model.dispose();
});

test('Grad-CAM runs on a zoo model through its features → pool → logits head', async () => {
  await initBackend('cpu');
  const model = buildModel({ arch: 'small-cnn', inputSize: 16, channels: 1, classes: 2, task: 'multilabel', seed: 1, width: 0.25 });
  const x = tf.randomUniform([2, 16, 16, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  const cam = gradCam(model, x, 1);
  assert.deepEqual([cam.maps.length, cam.height, cam.width], [2, 2, 2]);
  assert.ok(cam.maps.every((m) => m.every((v) => v >= 0 && v <= 1)));
  assert.throws(() => gradCam(model, x, 0, 'nope'), /model has no layer "nope"/);
  x.dispose();
  model.dispose();
});
