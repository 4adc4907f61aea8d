import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { maxRelDiff } from '../max-rel-diff.ts';
import { batchNormBackward, batchNormForward } from '../../../src/ml/layers/batch-norm.ts';
import { batchNormTrainingOps } from '../../../src/ml/layers/batch-norm-ops.ts';

// [2,3,5,6]: one block; [8,32,32,8]: m = 8192 rows in 4 blocks of column sums
for (const shape of [[2, 3, 5, 6], [8, 32, 32, 8]]) {
  for (const backend of ['cpu', 'wasm'] as const) {
    test(`batch norm from backend kernels ${shape.join('x')} on ${backend}: output, statistics and gradients equal the float64 loops`, async () => {
      await initBackend(backend);
      const c = shape[3];
      const m = shape[0] * shape[1] * shape[2];
      const x = tf.randomNormal(shape, 3, 2, 'float32', 1);
      const dy = tf.randomNormal(shape, 0, 1, 'float32', 2);
      const gamma = tf.randomUniform([c], 0.5, 2, 'float32', 3) as tf.Tensor1D;
      const beta = tf.randomNormal([c], 0, 1, 'float32', 4) as tf.Tensor1D;
      const ref = batchNormForward(x.dataSync(), m, c, gamma.dataSync(), beta.dataSync(), 1e-5);
      const refBack = batchNormBackward(dy.dataSync(), x.dataSync(), m, c, gamma.dataSync(), ref.mean, ref.invStd);
      const out = batchNormTrainingOps(x, gamma, beta, 1e-5);
      assert.ok(maxRelDiff(out.y.dataSync(), ref.y) < 1e-5, `y ${maxRelDiff(out.y.dataSync(), ref.y)}`);
      assert.ok(maxRelDiff(out.mean.dataSync(), ref.mean) < 1e-5, 'mean');
      assert.ok(maxRelDiff(out.variance.dataSync(), ref.variance) < 1e-5, 'variance');
      const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(batchNormTrainingOps(a, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5).y, dy)))([x, gamma, beta]);
      const errors = [maxRelDiff(grads[0].dataSync(), refBack.dx), maxRelDiff(grads[1].dataSync(), refBack.dGamma), maxRelDiff(grads[2].dataSync(), refBack.dBeta)];
      assert.ok(errors.every((e) => e < 1e-4), `dx, dgamma, dbeta relative errors ${errors.join(', ')}`);
    });
  }
}
