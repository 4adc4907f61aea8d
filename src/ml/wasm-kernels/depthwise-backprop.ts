import * as tf from '../tf.ts';
import { call, dilateSpatial, free, padOrCropSpatial, reshape, transpose, type Info, type WasmBackend } from './kernel-call.ts';
import { transposedConvPadding } from './conv2d-backprop-input.ts';
import { filterGradBySlices } from './filter-grad-by-slices.ts';

type Args<I> = { inputs: I; backend: WasmBackend; attrs: Record<string, any> };

/**
 * dx of a depthwise convolution (filter [kh, kw, c, m]) as one depthwise forward convolution over the
 * c*m channels of the dilated, padded dy with the spatially flipped filter, then a sum over m.
 */
export function depthwiseConv2dNativeBackpropInput(args: Args<{ dy: Info; filter: Info }>): Info {
  const { inputs: { dy, filter }, backend: b, attrs } = args;
  const { inputShape, strides, dilations, pad, dimRoundingMode } = attrs;
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as any, strides, dilations ?? [1, 1], pad, dimRoundingMode, true);
  const [kh, kw, c, m] = filter.shape;
  const [n, h, w] = inputShape;
  const dyD = dilateSpatial(b, dy, info.strideHeight, info.strideWidth);
  const p = transposedConvPadding(info, dyD.shape[1], dyD.shape[2]);
  const dyC = padOrCropSpatial(b, dyD, Math.min(0, p.top), Math.min(0, p.bottom), Math.min(0, p.left), Math.min(0, p.right));
  const flipped = call(b, 'Reverse', { x: filter }, { dims: [0, 1] });
  const flatFilter = reshape(b, flipped, [kh, kw, c * m, 1]);
  const pads = [[0, 0], [Math.max(0, p.top), Math.max(0, p.bottom)], [Math.max(0, p.left), Math.max(0, p.right)], [0, 0]];
  const perChannel = call(b, 'DepthwiseConv2dNative', { x: dyC, filter: flatFilter }, { strides: [1, 1], pad: pads, dilations: [info.dilationHeight, info.dilationWidth] });
  let out = perChannel;
  if (m > 1) {
    const split = reshape(b, perChannel, [n, h, w, c, m]);
    out = call(b, 'Sum', { x: split }, { axis: [4], keepDims: false });
    free(b, split, perChannel);
  }
  if (dyC !== dyD) free(b, dyC);
  if (dyD !== dy) free(b, dyD);
  free(b, flipped, flatFilter);
  return out;
}

/**
 * dW of a depthwise convolution as ONE depthwise forward convolution: the batch moves into the channels
 * (x as [1, H, W, n*c]), dy becomes an [oh, ow, n*c, m] filter dilated by the stride, and the result
 * [1, kh, kw, n*c*m] is summed over n. Dilated convolutions use the per-tap path.
 */
export function depthwiseConv2dNativeBackpropFilter(args: Args<{ x: Info; dy: Info }>): Info {
  const { inputs: { x, dy }, backend: b, attrs } = args;
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs;
  const info = tf.backend_util.computeConv2DInfo(x.shape as any, filterShape, strides, dilations ?? [1, 1], pad, dimRoundingMode, true);
  if (info.dilationHeight > 1 || info.dilationWidth > 1) return filterGradBySlices(b, x, dy, info, true);
  const [n, h, w, c] = x.shape;
  const [kh, kw, , m] = filterShape as number[];
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow, padInfo } = info;
  const bottom = kh + (oh - 1) * sh - padInfo.top - h;
  const right = kw + (ow - 1) * sw - padInfo.left - w;
  const xT = transpose(b, x, [1, 2, 0, 3]);
  const xFlat = reshape(b, xT, [1, h, w, n * c]);
  const xC = padOrCropSpatial(b, xFlat, Math.min(0, padInfo.top), Math.min(0, bottom), Math.min(0, padInfo.left), Math.min(0, right));
  const dyT = transpose(b, dy, [1, 2, 0, 3]);
  const dyFilter = reshape(b, dyT, [oh, ow, n * c, m]);
  const pads = [[0, 0], [Math.max(0, padInfo.top), Math.max(0, bottom)], [Math.max(0, padInfo.left), Math.max(0, right)], [0, 0]];
  const perSample = call(b, 'DepthwiseConv2dNative', { x: xC, filter: dyFilter }, { strides: [1, 1], pad: pads, dilations: [sh, sw] });
  const split = reshape(b, perSample, [kh, kw, n, c * m]);
  const summed = call(b, 'Sum', { x: split }, { axis: [2], keepDims: false });
  const out = reshape(b, summed, [kh, kw, c, m]);
  if (xC !== xFlat) free(b, xC);
  free(b, xT, xFlat, dyT, dyFilter, perSample, split, summed);
  return out;
}
