import * as tf from '../tf.ts';
import { sampleAugment, type AugmentRanges } from '../../ops/augment/affine.ts';
import { sampleCutmixBox } from '../../ops/augment/cutmix.ts';
import { sampleBeta } from '../../ops/augment/distributions.ts';

/** Random affine warp (bilinear, nearest-edge fill) and brightness per image of an NHWC batch in [0, 1]. */
export function augmentBatch(x: tf.Tensor4D, ranges: AugmentRanges, random: () => number): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const samples = Array.from({ length: n }, () => sampleAugment(ranges, w, h, random));
  return tf.tidy(() => {
    const transforms = tf.tensor2d(samples.flatMap((s) => s.transform), [n, 8]);
    const warped = tf.image.transform(x, transforms, 'bilinear', 'nearest');
    const brightness = tf.tensor4d(samples.map((s) => s.brightness), [n, 1, 1, 1]);
    return tf.clipByValue(tf.mul(warped, brightness), 0, 1) as tf.Tensor4D;
  });
}

/** A random pairing of the batch (a permutation) used by mixup and cutmix. */
function partnerIndices(n: number, random: () => number): number[] {
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return perm;
}

/** Mixup (Zhang et al. 2018): x = l x + (1 - l) x[perm], same for y, l ~ Beta(alpha, alpha). */
export function mixupBatch(x: tf.Tensor4D, y: tf.Tensor2D, alpha: number, random: () => number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const lambda = sampleBeta(alpha, alpha, random);
  const perm = partnerIndices(x.shape[0], random);
  return tf.tidy(() => {
    const idx = tf.tensor1d(perm, 'int32');
    const mix = <T extends tf.Tensor>(t: T) => tf.add(tf.mul(t, lambda), tf.mul(tf.gather(t, idx), 1 - lambda)) as T;
    return { x: mix(x), y: mix(y) };
  });
}

/** CutMix (Yun et al. 2019): paste a box from the partner image; labels mix by the pasted area. */
export function cutmixBatch(x: tf.Tensor4D, y: tf.Tensor2D, beta: number, random: () => number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const [n, h, w] = x.shape;
  const box = sampleCutmixBox(beta, w, h, random);
  const perm = partnerIndices(n, random);
  return tf.tidy(() => {
    const idx = tf.tensor1d(perm, 'int32');
    const maskValues = new Float32Array(h * w);
    for (let r = box.y0; r < box.y1; r++) maskValues.fill(1, r * w + box.x0, r * w + box.x1);
    const mask = tf.tensor4d(maskValues, [1, h, w, 1]);
    const mixed = tf.add(tf.mul(x, tf.sub(1, mask)), tf.mul(tf.gather(x, idx), mask)) as tf.Tensor4D;
    const labels = tf.add(tf.mul(y, box.lambda), tf.mul(tf.gather(y, idx), 1 - box.lambda)) as tf.Tensor2D;
    return { x: mixed, y: labels };
  });
}
