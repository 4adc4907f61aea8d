import type * as tf from '../tf.ts';
import { channelsOf, type LayerBuilder } from './builder.ts';

/** ResNet with basic blocks (He et al. 2016): `[2,2,2,2]` is ResNet-18, `[3,4,6,3]` ResNet-34. */
export function resnetBody(b: LayerBuilder, x: tf.SymbolicTensor, blocks: number[], width = 1): tf.SymbolicTensor {
  return resnetStages(b, x, blocks, width).at(-1)!;
}

/** The output of every stage (strides 4, 8, 16, 32): detection necks take the last three. */
export function resnetStages(b: LayerBuilder, x: tf.SymbolicTensor, blocks: number[], width = 1): tf.SymbolicTensor[] {
  const stages: tf.SymbolicTensor[] = [];
  let y = b.convBnAct(x, 'stem', Math.round(64 * width), 7, 2);
  y = b.maxPool(y, 'stem_pool', 3, 2);
  for (const [stage, count] of blocks.entries()) {
    const filters = Math.round(64 * width * 2 ** stage);
    for (let i = 0; i < count; i++) {
      const strides = stage > 0 && i === 0 ? 2 : 1;
      const name = `s${stage + 1}b${i + 1}`;
      let shortcut = y;
      if (strides !== 1 || channelsOf(y) !== filters) shortcut = b.convBnAct(y, `${name}_down`, filters, 1, strides, null);
      let r = b.convBnAct(y, `${name}_1`, filters, 3, strides);
      r = b.convBnAct(r, `${name}_2`, filters, 3, 1, null);
      y = b.act(b.add([r, shortcut], `${name}_add`), `${name}_out`);
    }
    stages.push(y);
  }
  return stages;
}
