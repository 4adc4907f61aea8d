import * as tf from '../tf.ts';
import type { Info, WasmBackend } from './kernel-call.ts';

/**
 * Gradient of max pooling as one scatter pass on the heap: per output pixel and channel, dy goes to the
 * FIRST maximum of its window (row-major scan, padding excluded: the cpu backend's rule, so ties such
 * as all-zero windows after a ReLU route the gradient to one pixel). O(output x window), against wasm's
 * kernel which loops over every input pixel's covering windows (~8% of a small-CNN step).
 */
export function maxPoolGrad(args: { inputs: { dy: Info; input: Info }; backend: WasmBackend; attrs: Record<string, any> }): Info {
  const { inputs: { dy, input }, backend: b, attrs } = args;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  // Output first: allocating may grow the heap, which detaches views taken before.
  const out = b.makeOutput(input.shape, 'float32');
  const x = b.typedArrayFromHeap(input) as Float32Array;
  const g = b.typedArrayFromHeap(dy) as Float32Array;
  const dx = b.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);
  const rowStride = w * c;
  const taps = new Int32Array(Math.ceil(fh / dh) * Math.ceil(fw / dw));
  for (let bi = 0; bi < n; bi++) {
    const xBase = bi * h * rowStride;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - padInfo.top;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - padInfo.left;
        let count = 0;
        for (let fy = 0; fy < fh; fy += dh) {
          const yy = y0 + fy;
          if (yy < 0 || yy >= h) continue;
          for (let fx = 0; fx < fw; fx += dw) {
            const xx = x0 + fx;
            if (xx >= 0 && xx < w) taps[count++] = xBase + yy * rowStride + xx * c;
          }
        }
        const gAt = ((bi * oh + oy) * ow + ox) * c;
        for (let k = 0; k < c; k++) {
          let bestAt = -1;
          let bestValue = -Infinity;
          for (let t = 0; t < count; t++) {
            const v = x[taps[t] + k];
            if (v > bestValue) {
              bestValue = v;
              bestAt = taps[t] + k;
            }
          }
          if (bestAt >= 0) dx[bestAt] += g[gAt + k];
        }
      }
    }
  }
  return out;
}
