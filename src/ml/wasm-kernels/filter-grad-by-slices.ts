import type * as tf from '../tf.ts';
import { call, free, padOrCropSpatial, reshape, type Info, type WasmBackend } from './kernel-call.ts';

/**
 * Filter gradient of a (depthwise) convolution, one filter tap at a time: for each (i, j) the strided
 * slice of the padded input that tap saw, times dy, summed over batch and pixels. Works for any stride
 * and dilation. Depthwise: [kh, kw, c, m]; regular: [kh, kw, ci, co] (via a matmul per tap).
 */
export function filterGradBySlices(b: WasmBackend, x: Info, dy: Info, info: tf.backend_util.Conv2DInfo, depthwise: boolean): Info {
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow, padInfo } = info;
  const [n, h, w, c] = x.shape;
  const needH = (kh - 1) * dh + (oh - 1) * sh + 1;
  const needW = (kw - 1) * dw + (ow - 1) * sw + 1;
  const xp = padOrCropSpatial(b, x, padInfo.top, needH - padInfo.top - h, padInfo.left, needW - padInfo.left - w);
  const cOut = dy.shape[3];
  const m = depthwise ? cOut / c : 0;
  const taps: Info[] = [];
  const dyFlat = depthwise ? reshape(b, dy, [n, oh, ow, c, m]) : reshape(b, dy, [n * oh * ow, cOut]);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const begin = [0, i * dh, j * dw, 0];
      const end = [n, i * dh + (oh - 1) * sh + 1, j * dw + (ow - 1) * sw + 1, c];
      const slice = call(b, 'StridedSlice', { x: xp }, { begin, end, strides: [1, sh, sw, 1], beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 });
      if (depthwise) {
        const s5 = reshape(b, slice, [n, oh, ow, c, 1]);
        const prod = call(b, 'Multiply', { a: s5, b: dyFlat });
        taps.push(call(b, 'Sum', { x: prod }, { axis: [0, 1, 2], keepDims: false }));
        free(b, s5, prod);
      } else {
        const s2 = reshape(b, slice, [n * oh * ow, c]);
        taps.push(call(b, 'BatchMatMul', { a: s2, b: dyFlat }, { transposeA: true, transposeB: false }));
        free(b, s2);
      }
      free(b, slice);
    }
  }
  const stacked = call(b, 'Pack', taps as unknown as Record<string, Info>, { axis: 0 });
  const out = reshape(b, stacked, [kh, kw, c, depthwise ? m : cOut]);
  free(b, stacked, dyFlat, ...taps);
  if (xp !== x) free(b, xp);
  return out;
}
