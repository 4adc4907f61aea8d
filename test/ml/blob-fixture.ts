import * as tf from '../../src/ml/tf.ts';

/**
 * A hand-set conv model named like the zoo (features → pool → logits → probs): channel 0 fires inside
 * bright 5×5 blobs (3×3 sum ≥ 6), channel 1 on dark background; the logit weighs them +100 / −10.
 */
export function blobDetector(): tf.LayersModel {
  const input = tf.input({ name: 'image', shape: [32, 32, 1] });
  const conv = tf.layers.conv2d({ name: 'conv', filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' });
  const features = tf.layers.activation({ name: 'features', activation: 'linear' });
  const pool = tf.layers.globalAveragePooling2d({ name: 'pool' });
  const logits = tf.layers.dense({ name: 'logits', units: 1 });
  const probs = tf.layers.activation({ name: 'probs', activation: 'sigmoid' });
  const output = probs.apply(logits.apply(pool.apply(features.apply(conv.apply(input))))) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  const kernel = new Float32Array(3 * 3 * 2);
  for (let i = 0; i < 9; i++) {
    kernel[2 * i] = 1;
    kernel[2 * i + 1] = -1;
  }
  conv.setWeights([tf.tensor4d(kernel, [3, 3, 1, 2]), tf.tensor1d([-6, 1])]);
  logits.setWeights([tf.tensor2d([100, -10], [2, 1]), tf.tensor1d([-0.5])]);
  return model;
}

/** 32×32 floats in [0, 1]: faint noise with a bright 5×5 blob centred at (cx, cy). */
export function blobImage(cx: number, cy: number, seed: number): Float32Array {
  let s = seed * 7919 + 1;
  const noise = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 0.2;
  const px = new Float32Array(32 * 32);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) px[y * 32 + x] = Math.abs(x - cx) <= 2 && Math.abs(y - cy) <= 2 ? 1 : noise();
  return px;
}
