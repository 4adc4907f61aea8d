import { blankLike, roundEven, type Image } from './image.ts';

const f32 = Math.fround;
/** OpenCV's INTER_RESIZE_COEF_SCALE: 8-bit weights are 11-bit fixed point. */
const COEF_SCALE = 2048;
const TAPS = 8;
const EPS = f32(1e-6);
const S45 = 0.70710678118654752440084436210485;
/** OpenCV's `cs` table: each tap's sin(πt)·sin(πt/4) numerator from sin and cos of the first tap's angle. */
const CS = [[1, 0], [-S45, -S45], [0, 1], [S45, -S45], [-1, 0], [S45, S45], [0, -1], [-S45, S45]];

/**
 * OpenCV's interpolateLanczos4: the 8 weights of source pixels floor(s) - 3 .. floor(s) + 4 for the
 * fractional position `x` (float32), sinc(t)·sinc(t/4) normalised to sum 1, in OpenCV's float32/double
 * mix so that the weights are the same float32 values.
 */
export function lanczos4Weights(x: number, out: Float64Array = new Float64Array(TAPS)): Float64Array {
  const x3 = f32(x + 3);
  const y0 = -x3 * Math.PI * 0.25;
  const s0 = Math.sin(y0), c0 = Math.cos(y0);
  let sum = 0;
  for (let i = 0; i < TAPS; i++) {
    const t = f32(x3 - i);
    let w: number;
    if (Math.abs(t) >= EPS) {
      const y = -t * Math.PI * 0.25;
      w = f32((CS[i][0] * s0 + CS[i][1] * c0) / (y * y));
    } else {
      w = f32(1e30); // x on a pixel: after normalising, weight 1 there and ~0 elsewhere
    }
    out[i] = w;
    sum = f32(sum + w);
  }
  sum = f32(1 / sum);
  for (let i = 0; i < TAPS; i++) out[i] = f32(out[i] * sum);
  return out;
}

/** Per output index along one axis: the 8 source indices (edges replicated) and their weights. */
interface AxisTaps {
  index: Int32Array;
  /** float32 weights, or for 8-bit images the 11-bit fixed-point integers. */
  weight: Float64Array | Int32Array;
}

/**
 * OpenCV's tables for the generic resize path: scale = 1 / (dst / src) in double, source position
 * `(float)((d + 0.5) * scale - 0.5)`, taps floor - 3 .. floor + 4 clamped into the image (OpenCV clamps
 * both the columns in HResizeLanczos4 and the rows in resizeGeneric_Invoker, i.e. replicates the edge).
 */
function axisTaps(srcSize: number, dstSize: number, fixedPoint: boolean): AxisTaps {
  const scale = 1 / (dstSize / srcSize);
  const index = new Int32Array(dstSize * TAPS), weight = fixedPoint ? new Int32Array(dstSize * TAPS) : new Float64Array(dstSize * TAPS);
  const w = new Float64Array(TAPS);
  for (let d = 0; d < dstSize; d++) {
    let fx = f32((d + 0.5) * scale - 0.5);
    const sx = Math.floor(fx);
    fx = f32(fx - sx);
    lanczos4Weights(fx, w);
    for (let j = 0; j < TAPS; j++) {
      const s = sx - 3 + j;
      index[d * TAPS + j] = s < 0 ? 0 : s >= srcSize ? srcSize - 1 : s;
      weight[d * TAPS + j] = fixedPoint ? saturateShort(roundEven(f32(w[j] * COEF_SCALE))) : w[j];
    }
  }
  return { index, weight };
}

/**
 * OpenCV's `cv2.resize(..., interpolation=INTER_LANCZOS4)`, for enlarging and shrinking alike: an 8x8
 * separable Lanczos kernel, rows first then columns, with OpenCV's arithmetic so results are identical:
 * 8-bit in 11-bit fixed point (int32 sums, `(sum + 2^21) >> 22`, saturated); 16-bit in float32, rounded
 * half to even and saturated. Any channel count (channels interleaved).
 */
export function resizeLanczos4(image: Image, width: number, height: number): Image {
  const is8 = image.data instanceof Uint8Array;
  const xt = axisTaps(image.width, width, is8);
  const yt = axisTaps(image.height, height, is8);
  const out = blankLike(image, width, height);
  const rowLength = width * image.channels;
  // Horizontally resampled source rows, each computed once and only if some output row needs it; the
  // rows an output row needs only move down, so those above its first one are dropped.
  const rows: (Int32Array | Float32Array | undefined)[] = new Array(image.height);
  const rowOf = (sy: number) => (rows[sy] ??= horizontal(image, sy, xt, rowLength, is8));
  const taps: (Int32Array | Float32Array)[] = new Array(TAPS);
  const beta = new Float64Array(TAPS);
  for (let y = 0, dropped = 0; y < height; y++) {
    for (const top = yt.index[y * TAPS]; dropped < top; dropped++) rows[dropped] = undefined;
    for (let k = 0; k < TAPS; k++) {
      taps[k] = rowOf(yt.index[y * TAPS + k]);
      beta[k] = yt.weight[y * TAPS + k];
    }
    if (is8) vertical8(taps as Int32Array[], beta, out.data, y * rowLength, rowLength);
    else vertical16(taps as Float32Array[], beta, out.data, y * rowLength, rowLength);
  }
  return out;
}

/**
 * One source row resampled horizontally. 8-bit: uchar x short products summed in int (exact here);
 * 16-bit: float32 products and sums in OpenCV's order.
 */
function horizontal(image: Image, sy: number, xt: AxisTaps, rowLength: number, is8: boolean): Int32Array | Float32Array {
  const src = image.data, c = image.channels, base = sy * image.width * c;
  const row = is8 ? new Int32Array(rowLength) : new Float32Array(rowLength);
  const { index, weight } = xt;
  for (let t = 0, o = 0; o < rowLength; t += TAPS) {
    for (let ch = 0; ch < c; ch++, o++) {
      const at = base + ch;
      if (is8) {
        row[o] = src[at + index[t] * c] * weight[t] + src[at + index[t + 1] * c] * weight[t + 1]
          + src[at + index[t + 2] * c] * weight[t + 2] + src[at + index[t + 3] * c] * weight[t + 3]
          + src[at + index[t + 4] * c] * weight[t + 4] + src[at + index[t + 5] * c] * weight[t + 5]
          + src[at + index[t + 6] * c] * weight[t + 6] + src[at + index[t + 7] * c] * weight[t + 7];
        continue;
      }
      let v = f32(src[at + index[t] * c] * weight[t]);
      for (let j = 1; j < TAPS; j++) v = f32(v + f32(src[at + index[t + j] * c] * weight[t + j]));
      row[o] = v;
    }
  }
  return row;
}

/** Output row from 8 resampled rows: int32 sums (wrapping as C would), FixedPtCast 22 bits, saturate. */
function vertical8(rows: Int32Array[], beta: Float64Array, dst: Uint8Array | Uint16Array, at: number, n: number): void {
  const [r0, r1, r2, r3, r4, r5, r6, r7] = rows;
  const [b0, b1, b2, b3, b4, b5, b6, b7] = beta;
  for (let i = 0; i < n; i++) {
    let s = Math.imul(r0[i], b0);
    s = (s + Math.imul(r1[i], b1)) | 0;
    s = (s + Math.imul(r2[i], b2)) | 0;
    s = (s + Math.imul(r3[i], b3)) | 0;
    s = (s + Math.imul(r4[i], b4)) | 0;
    s = (s + Math.imul(r5[i], b5)) | 0;
    s = (s + Math.imul(r6[i], b6)) | 0;
    s = (s + Math.imul(r7[i], b7)) | 0;
    const v = ((s + (1 << 21)) | 0) >> 22;
    dst[at + i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}

/** Output row from 8 resampled rows in float32, rounded half to even and saturated to 16 bits. */
function vertical16(rows: Float32Array[], beta: Float64Array, dst: Uint8Array | Uint16Array, at: number, n: number): void {
  const [r0, r1, r2, r3, r4, r5, r6, r7] = rows;
  const [b0, b1, b2, b3, b4, b5, b6, b7] = beta;
  for (let i = 0; i < n; i++) {
    let s = f32(r0[i] * b0);
    s = f32(s + f32(r1[i] * b1));
    s = f32(s + f32(r2[i] * b2));
    s = f32(s + f32(r3[i] * b3));
    s = f32(s + f32(r4[i] * b4));
    s = f32(s + f32(r5[i] * b5));
    s = f32(s + f32(r6[i] * b6));
    s = f32(s + f32(r7[i] * b7));
    const v = roundEven(s);
    dst[at + i] = v < 0 ? 0 : v > 65535 ? 65535 : v;
  }
}

function saturateShort(v: number): number {
  return v < -32768 ? -32768 : v > 32767 ? 32767 : v;
}
