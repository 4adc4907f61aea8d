import type * as tf from '../tf.ts';
import type { LayerBuilder } from './builder.ts';

/** Three conv-BN-ReLU blocks (32, 64, 128 filters, two convs each) with max pooling: a fast baseline. */
export function smallCnnBody(b: LayerBuilder, x: tf.SymbolicTensor, width = 1): tf.SymbolicTensor {
  let y = x;
  for (const [i, filters] of [32, 64, 128].entries()) {
    const f = Math.max(8, Math.round(filters * width));
    y = b.convBnAct(y, `block${i + 1}a`, f, 3);
    y = b.convBnAct(y, `block${i + 1}b`, f, 3);
    y = b.maxPool(y, `block${i + 1}_pool`, 2, 2);
  }
  return y;
}
