import * as tf from '../tf.ts';
import { call, free, padOrCropSpatial, transpose, type Info, type WasmBackend } from './kernel-call.ts';
import { filterGradBySlices } from './filter-grad-by-slices.ts';

/**
 * dW[kh,kw,ci,co] = sum over batch and output pixels of x[b, o*s + k - pad, ci] * dy[b, o, co], computed as
 * ONE forward convolution: x transposed to [ci, H, W, batch] (input channels become the batch, the batch
 * becomes the channels) convolved with dy transposed to [oh, ow, batch, co] as the filter, dilated by the
 * original stride. Falls back to per-tap slices for dilated convolutions.
 */
export function conv2DBackpropFilter(args: { inputs: { x: Info; dy: Info }; backend: WasmBackend; attrs: Record<string, any> }): Info {
  const { inputs: { x, dy }, backend: b, attrs } = args;
  const { strides, pad, dimRoundingMode, filterShape } = attrs;
  const dilations = attrs.dilations ?? [1, 1];
  const info = tf.backend_util.computeConv2DInfo(x.shape as any, filterShape, strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
  if (info.dilationHeight > 1 || info.dilationWidth > 1) return filterGradBySlices(b, x, dy, info, false);
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow, padInfo } = info;
  const [, h, w] = x.shape;
  const bottom = kh + (oh - 1) * sh - padInfo.top - h;
  const right = kw + (ow - 1) * sw - padInfo.left - w;
  const xT = transpose(b, x, [3, 1, 2, 0]);
  // Negative padding means rows the forward conv never read: crop them; positive padding goes to the conv.
  const xC = padOrCropSpatial(b, xT, Math.min(0, padInfo.top), Math.min(0, bottom), Math.min(0, padInfo.left), Math.min(0, right));
  const dyT = transpose(b, dy, [1, 2, 0, 3]);
  const pads = [[0, 0], [Math.max(0, padInfo.top), Math.max(0, bottom)], [Math.max(0, padInfo.left), Math.max(0, right)], [0, 0]];
  const grad = call(b, 'Conv2D', { x: xC, filter: dyT }, { strides: [1, 1], pad: pads, dataFormat: 'NHWC', dilations: [sh, sw] });
  const out = transpose(b, grad, [1, 2, 0, 3]);
  if (xC !== xT) free(b, xC);
  free(b, xT, dyT, grad);
  return out;
}
