import * as tf from './tf.ts';
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

/** Mean of the model's outputs over the transforms of one batch: `[n, classes]` scores. */
export function predictWithTta(model: tf.LayersModel, x: tf.Tensor4D, transforms: readonly TtaTransform[]): number[][] {
  const mean = tf.tidy(() => {
    const outputs = transforms.map((t) => model.predict(applyTransform(x, t)) as tf.Tensor2D);
    return tf.div(tf.addN(outputs), transforms.length) as tf.Tensor2D;
  });
  const values = mean.arraySync();
  mean.dispose();
  return values;
}
