import * as tf from './tf.ts';
import type { Predictor } from './inference/predictor.ts';
import type { TtaTransform } from './tta-transform-schema.ts';

export { transformName, ttaTransformSchema, type TtaTransform } from './tta-transform-schema.ts';

/**
 * Applies one TTA transform to an NHWC batch. Shifts move by whole pixels (round(fraction × size),
 * zero fill, no resampling); scales resample with bilinear `cropAndResize` about the centre.
 */
export function applyTransform(x: tf.Tensor4D, t: TtaTransform): tf.Tensor4D {
  if (t === 'identity') return x.clone();
  if (t === 'hflip') return tf.reverse(x, 2);
  if (t === 'vflip') return tf.reverse(x, 1);
  const [n, h, w, c] = x.shape;
  if ('shift' in t) {
    const dx = Math.round(t.shift.x * w);
    const dy = Math.round(t.shift.y * h);
    return tf.tidy(() => {
      const padded = tf.pad(x, [[0, 0], [Math.max(dy, 0), Math.max(-dy, 0)], [Math.max(dx, 0), Math.max(-dx, 0)], [0, 0]]);
      return tf.slice(padded, [0, Math.max(-dy, 0), Math.max(-dx, 0), 0], [n, h, w, c]);
    });
  }
  const half = 0.5 / t.scale;
  const box = [0.5 - half, 0.5 - half, 0.5 + half, 0.5 + half];
  return tf.tidy(() => {
    const boxes = tf.tensor2d(Array.from({ length: n }, () => box), [n, 4]);
    const indices = tf.tensor1d(Array.from({ length: n }, (_, i) => i), 'int32');
    return tf.image.cropAndResize(x, boxes, indices, [h, w], 'bilinear', 0);
  });
}

/**
 * Mean of the predictor's outputs over the transforms of one batch: `[n, classes]` scores. The
 * transforms run in tfjs; each transformed batch goes to the predictor (tfjs or ONNX Runtime).
 */
export async function predictWithTta(predictor: Predictor, x: tf.Tensor4D, transforms: readonly TtaTransform[]): Promise<number[][]> {
  const n = x.shape[0];
  let sum = new Float64Array(0);
  for (const t of transforms) {
    const transformed = applyTransform(x, t);
    const pixels = (await transformed.data()) as Float32Array;
    transformed.dispose();
    const scores = await predictor.predict(pixels, n);
    if (sum.length === 0) sum = new Float64Array(scores.length);
    scores.forEach((v, i) => (sum[i] += v));
  }
  const classes = sum.length / n;
  return Array.from({ length: n }, (_, i) => Array.from(sum.subarray(i * classes, (i + 1) * classes), (v) => v / transforms.length));
}
