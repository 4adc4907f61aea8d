import type * as tf from '../tf.ts';
import type { Stem } from './architectures.ts';
import { channelsOf, type LayerBuilder } from './builder.ts';

export type ResnetBlock = 'basic' | 'bottleneck';

/**
 * ResNet (He et al. 2016) as torchvision's: `basic` blocks [2,2,2,2] ResNet-18, [3,4,6,3] ResNet-34;
 * `bottleneck` blocks [3,4,6,3] ResNet-50 (v1.5: the stride on the 3x3 conv, expansion 4). The `small`
 * stem is one 3x3 stride-1 conv without max pooling (MedMNIST's ResNets for 28 px).
 */
export function resnetBody(b: LayerBuilder, x: tf.SymbolicTensor, blocks: number[], width = 1, block: ResnetBlock = 'basic', stem: Stem = 'imagenet'): tf.SymbolicTensor {
  return resnetStages(b, x, blocks, width, block, stem).at(-1)!;
}

/** The output of every stage (strides 4, 8, 16, 32 with the ImageNet stem): detection necks take the last three. */
export function resnetStages(b: LayerBuilder, x: tf.SymbolicTensor, blocks: number[], width = 1, block: ResnetBlock = 'basic', stem: Stem = 'imagenet'): tf.SymbolicTensor[] {
  const stages: tf.SymbolicTensor[] = [];
  let y: tf.SymbolicTensor;
  if (stem === 'small') y = b.convBnAct(x, 'stem', Math.round(64 * width), 3, 1);
  else y = b.stemMaxPool(b.convBnAct(x, 'stem', Math.round(64 * width), 7, 2), 'stem_pool');
  const expansion = block === 'bottleneck' ? 4 : 1;
  for (const [stage, count] of blocks.entries()) {
    const planes = Math.round(64 * width * 2 ** stage);
    const filters = planes * expansion;
    for (let i = 0; i < count; i++) {
      const strides = stage > 0 && i === 0 ? 2 : 1;
      const name = `s${stage + 1}b${i + 1}`;
      let shortcut = y;
      if (strides !== 1 || channelsOf(y) !== filters) shortcut = b.convBnAct(y, `${name}_down`, filters, 1, strides, null);
      let r: tf.SymbolicTensor;
      if (block === 'basic') {
        r = b.convBnAct(y, `${name}_1`, filters, 3, strides);
      } else {
        r = b.convBnAct(y, `${name}_1`, planes, 1, 1);
        r = b.convBnAct(r, `${name}_2`, planes, 3, strides);
      }
      r = b.convBnAct(r, `${name}_${block === 'basic' ? 2 : 3}`, filters, block === 'basic' ? 3 : 1, 1, null);
      y = b.act(b.add([r, shortcut], `${name}_add`), `${name}_out`);
    }
    stages.push(y);
  }
  return stages;
}
