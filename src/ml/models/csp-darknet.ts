import type * as tf from '../tf.ts';
import type { LayerBuilder } from './builder.ts';

type T = tf.SymbolicTensor;

/**
 * A CSP-Darknet in the shape of YOLOv5-nano's backbone (widths 16-256, C3 blocks of 1, 2, 3, 1
 * bottlenecks), with ReLU where YOLOv5 has SiLU (the ONNX training graph differentiates ReLU; SiLU
 * costs two more elementwise passes per layer). Returns the outputs of strides 8, 16 and 32.
 */
export function cspDarknetStages(b: LayerBuilder, x: T, width = 1): T[] {
  const c = (n: number) => Math.max(8, Math.round(n * width));
  let y = b.convBnAct(x, 'stem', c(16), 3, 2);
  const outputs: T[] = [];
  const depths = [1, 2, 3, 1];
  depths.forEach((depth, i) => {
    const filters = c(32 * 2 ** i);
    y = b.convBnAct(y, `s${i + 1}_down`, filters, 3, 2);
    y = c3Block(b, y, `s${i + 1}_c3`, filters, depth);
    if (i >= 1) outputs.push(y);
  });
  return outputs;
}

/** CSP bottleneck with 3 convolutions: a residual branch of `depth` bottlenecks beside a 1x1 shortcut, concatenated. */
function c3Block(b: LayerBuilder, x: T, name: string, filters: number, depth: number): T {
  const hidden = Math.max(4, Math.round(filters / 2));
  let main = b.convBnAct(x, `${name}_cv1`, hidden, 1);
  for (let i = 0; i < depth; i++) {
    const r = b.convBnAct(b.convBnAct(main, `${name}_m${i}_1`, hidden, 1), `${name}_m${i}_2`, hidden, 3);
    main = b.add([main, r], `${name}_m${i}_add`);
  }
  const side = b.convBnAct(x, `${name}_cv2`, hidden, 1);
  const merged = b.concat([main, side], `${name}_cat`);
  return b.convBnAct(merged, `${name}_cv3`, filters, 1);
}
