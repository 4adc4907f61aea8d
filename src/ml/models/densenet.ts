import type * as tf from '../tf.ts';
import type { Stem } from './architectures.ts';
import { channelsOf, type LayerBuilder } from './builder.ts';

/** DenseNet-BC (Huang et al. 2017); `[6,12,24,16]` with growth 32 is DenseNet-121. */
export function densenetBody(b: LayerBuilder, x: tf.SymbolicTensor, stem: Stem = 'imagenet', blocks = [6, 12, 24, 16], growth = 32): tf.SymbolicTensor {
  let y = stem === 'small' ? b.convBnAct(x, 'stem', 2 * growth, 3, 1) : b.stemMaxPool(b.convBnAct(x, 'stem', 2 * growth, 7, 2), 'stem_pool');
  for (const [stage, count] of blocks.entries()) {
    for (let i = 0; i < count; i++) {
      const name = `d${stage + 1}l${i + 1}`;
      let r = b.act(b.bn(y, `${name}_bn1`), `${name}_relu1`);
      r = b.conv(r, `${name}_conv1`, 4 * growth, 1);
      r = b.act(b.bn(r, `${name}_bn2`), `${name}_relu2`);
      r = b.conv(r, `${name}_conv2`, growth, 3);
      y = b.concat([y, r], `${name}_concat`);
    }
    if (stage < blocks.length - 1) {
      const name = `t${stage + 1}`;
      y = b.act(b.bn(y, `${name}_bn`), `${name}_relu`);
      y = b.conv(y, `${name}_conv`, Math.floor(channelsOf(y) / 2), 1);
      y = b.avgPool(y, `${name}_pool`, 2, 2);
    }
  }
  return b.act(b.bn(y, 'final_bn'), 'final_relu');
}
