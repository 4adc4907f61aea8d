import * as tf from '../tf.ts';

/** The wasm backend as our kernels see it (the parts we use). */
export interface WasmBackend {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType, memory?: tf.backend_util.BackendValues): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}

export type Info = tf.TensorInfo;

/** Runs another registered wasm kernel directly (no tape, no engine bookkeeping). */
export function call(backend: WasmBackend, kernelName: string, inputs: Record<string, Info>, attrs: Record<string, unknown> = {}): Info {
  const kernel = tf.getKernel(kernelName, 'wasm');
  if (!kernel) throw new Error(`wasm kernel ${kernelName} is not registered`);
  return kernel.kernelFunc({ inputs, backend: backend as never, attrs: attrs as never }) as Info;
}

/** Frees intermediate results (reshapes share data and are reference-counted by the backend). */
export function free(backend: WasmBackend, ...infos: Info[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

export const reshape = (b: WasmBackend, x: Info, shape: number[]) => call(b, 'Reshape', { x }, { shape });
export const transpose = (b: WasmBackend, x: Info, perm: number[]) => call(b, 'Transpose', { x }, { perm });

/**
 * Pads (positive) or crops (negative) the two spatial axes of an NHWC tensor. Returns the input itself
 * when nothing changes; the caller frees the result only if it differs from the input.
 */
export function padOrCropSpatial(b: WasmBackend, x: Info, top: number, bottom: number, left: number, right: number): Info {
  let out = x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = x.shape;
    const t = Math.max(0, -top), bo = Math.max(0, -bottom), l = Math.max(0, -left), r = Math.max(0, -right);
    out = call(b, 'Slice', { x }, { begin: [0, t, l, 0], size: [n, h - t - bo, w - l - r, c] });
  }
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    const padded = call(b, 'PadV2', { x: out }, { paddings: [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]], constantValue: 0 });
    if (out !== x) free(b, out);
    out = padded;
  }
  return out;
}

/**
 * Inserts `sh - 1` zero rows and `sw - 1` zero columns after each pixel (the "dilated" gradient of a
 * strided convolution): [n, h, w, c] -> [n, h*sh, w*sw, c]; the trailing zeros are harmless extra rows
 * that callers crop away with their padding arithmetic. Uses rank-4 pads only.
 */
export function dilateSpatial(b: WasmBackend, x: Info, sh: number, sw: number): Info {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const cols = reshape(b, x, [n * h, w, 1, c]);
  const colsPadded = call(b, 'PadV2', { x: cols }, { paddings: [[0, 0], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 });
  const rows = reshape(b, colsPadded, [n, h, 1, w * sw * c]);
  const rowsPadded = call(b, 'PadV2', { x: rows }, { paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0]], constantValue: 0 });
  const out = reshape(b, rowsPadded, [n, h * sh, w * sw, c]);
  free(b, cols, colsPadded, rows, rowsPadded);
  return out;
}
