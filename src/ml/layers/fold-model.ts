import type * as tf from '../tf.ts';
import { FastBatchNormalization } from './batch-norm.ts';
import { linkConvBatchNorm } from './conv-bn-fold.ts';
import { LeanConv2D } from './conv2d.ts';

interface ConvShape {
  activation?: unknown;
  dataFormat: string;
  dilationRate: number[];
}

/**
 * Links every (Conv2D -> BatchNormalization) pair of the model whose conv output feeds only that batch
 * norm and is not a model output, so inference computes both as one fused conv (`conv-bn-fold.ts`).
 * Only our layer classes (which know about the folding), channels-last, undilated, linear convs; layers
 * used more than once are left alone. Returns the number of folded pairs.
 */
export function foldConvBatchNorms(model: tf.LayersModel): number {
  const outputs = new Set(model.outputs);
  let folded = 0;
  for (const bn of model.layers) {
    if (!(bn instanceof FastBatchNormalization) || bn.inboundNodes.length !== 1) continue;
    const inbound = bn.inboundNodes[0].inboundLayers;
    if (inbound.length !== 1 || !(inbound[0] instanceof LeanConv2D)) continue;
    const conv = inbound[0];
    if (conv.inboundNodes.length !== 1 || conv.outboundNodes.length !== 1 || outputs.has(conv.output as tf.SymbolicTensor)) continue;
    const shape = conv as unknown as ConvShape;
    const linear = !shape.activation || (shape.activation as { getClassName(): string }).getClassName() === 'linear';
    if (!linear || shape.dataFormat !== 'channelsLast' || shape.dilationRate.some((d) => d !== 1)) continue;
    const axis = (bn as unknown as { axis: number }).axis;
    if (axis !== -1 && axis !== 3) continue;
    linkConvBatchNorm(conv, bn);
    folded++;
  }
  return folded;
}
