import type * as tf from '../tf.ts';
import type { Stem } from './architectures.ts';
import { channelsOf, type LayerBuilder } from './builder.ts';

type Act = 'relu6' | 'swish';

/** Inverted residual (expand 1x1, depthwise kxk, optional squeeze-excite, project 1x1), residual when shapes allow. */
function invertedResidual(b: LayerBuilder, x: tf.SymbolicTensor, name: string, out: number, expand: number, kernel: number, strides: number, act: Act, se: boolean): tf.SymbolicTensor {
  const inC = channelsOf(x);
  let y = x;
  if (expand !== 1) y = b.convBnAct(y, `${name}_expand`, inC * expand, 1, 1, act);
  y = b.act(b.bn(b.depthwise(y, `${name}_dw`, kernel, strides), `${name}_dw_bn`), `${name}_dw_${act}`, act);
  if (se) {
    const squeezed = Math.max(1, Math.floor(inC / 4));
    let s = b.globalPool(y, `${name}_se_pool`);
    s = b.dense(s, `${name}_se_reduce`, squeezed, 'swish');
    s = b.dense(s, `${name}_se_expand`, channelsOf(y), 'sigmoid');
    y = b.multiply([y, s], `${name}_se_scale`);
  }
  y = b.convBnAct(y, `${name}_project`, out, 1, 1, null);
  return strides === 1 && inC === out ? b.add([x, y], `${name}_add`) : y;
}

/** MobileNetV2's stages: [expansion, channels, repeats, stride]. */
export const MOBILENET_V2_STAGES = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]];

/** MobileNetV2 (Sandler et al. 2018), width multiplier 1; the `small` stem convolves at stride 1. Other `settings`: tests only. */
export function mobilenetV2Body(b: LayerBuilder, x: tf.SymbolicTensor, stem: Stem = 'imagenet', settings = MOBILENET_V2_STAGES): tf.SymbolicTensor {
  let y = b.convBnAct(x, 'stem', 32, 3, stem === 'small' ? 1 : 2, 'relu6');
  let n = 0;
  for (const [t, c, reps, s] of settings) {
    for (let i = 0; i < reps; i++) y = invertedResidual(b, y, `ir${++n}`, c, t, 3, i === 0 ? s : 1, 'relu6', false);
  }
  return b.convBnAct(y, 'head', 1280, 1, 1, 'relu6');
}

/** EfficientNet-B0-like: MBConv blocks with swish and squeeze-excite, B0's widths/depths (no drop-connect). */
export function efficientnetB0Body(b: LayerBuilder, x: tf.SymbolicTensor, stem: Stem = 'imagenet'): tf.SymbolicTensor {
  // [expansion, channels, repeats, stride, kernel]
  const settings = [[1, 16, 1, 1, 3], [6, 24, 2, 2, 3], [6, 40, 2, 2, 5], [6, 80, 3, 2, 3], [6, 112, 3, 1, 5], [6, 192, 4, 2, 5], [6, 320, 1, 1, 3]];
  let y = b.convBnAct(x, 'stem', 32, 3, stem === 'small' ? 1 : 2, 'swish');
  let n = 0;
  for (const [t, c, reps, s, k] of settings) {
    for (let i = 0; i < reps; i++) y = invertedResidual(b, y, `mb${++n}`, c, t, k, i === 0 ? s : 1, 'swish', true);
  }
  return b.convBnAct(y, 'head', 1280, 1, 1, 'swish');
}
