import type { WeightLayout } from './layers/types.ts';

/** The graph (ONNX) shape of a weight of tfjs shape `shape` stored in `layout`. */
export function layoutDims(shape: readonly number[], layout: WeightLayout): number[] {
  if (layout === 'same') return [...shape];
  const [h, w, i, o] = shape;
  return layout === 'hwio-as-oihw' ? [o, i, h, w] : [i * o, 1, h, w];
}

/** tfjs data -> the graph layout. */
export function toLayout(data: Float32Array, shape: readonly number[], layout: WeightLayout): Float32Array {
  return layout === 'same' ? data : permuteKernel(data, shape, layout, true);
}

/** Graph layout -> tfjs data. */
export function fromLayout(data: Float32Array, shape: readonly number[], layout: WeightLayout): Float32Array {
  return layout === 'same' ? data : permuteKernel(data, shape, layout, false);
}

/** A 4-D kernel between its tfjs order (`shape`, [h, w, i, o]) and its ONNX order, either way. */
function permuteKernel(data: Float32Array, shape: readonly number[], layout: Exclude<WeightLayout, 'same'>, toOnnx: boolean): Float32Array {
  const [h, w, i, o] = shape;
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < i; c++) {
        for (let k = 0; k < o; k++) {
          const tfjs = ((y * w + x) * i + c) * o + k;
          // OIHW: [o, i, h, w]; depthwise: [i * o + k, 0, h, w]
          const onnx = layout === 'hwio-as-oihw' ? ((k * i + c) * h + y) * w + x : ((c * o + k) * h + y) * w + x;
          if (toOnnx) out[onnx] = data[tfjs];
          else out[tfjs] = data[onnx];
        }
      }
    }
  }
  return out;
}
