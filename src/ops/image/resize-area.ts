import { blankLike, roundEven, type Image } from './image.ts';

const f32 = Math.fround;
const DBL_EPSILON = 2.220446049250313e-16;

/**
 * OpenCV's INTER_AREA for shrinking a grey image (`width` <= image width, `height` <= image height),
 * reproducing its results: integer factors sum whole blocks (2x2: `(sum + 2) >> 2` as OpenCV's vector
 * path; other factors `sum * (1/area)` in float32, rounded half to even); other ratios use OpenCV's
 * overlap-weight tables (computeResizeAreaTab) in float32 arithmetic.
 */
export function areaDownscale(image: Image, width: number, height: number): Image {
  const out = blankLike(image, width, height, 1);
  const scaleX = 1 / (width / image.width), scaleY = 1 / (height / image.height);
  const kx = Math.round(scaleX), ky = Math.round(scaleY);
  if (Math.abs(scaleX - kx) < DBL_EPSILON && Math.abs(scaleY - ky) < DBL_EPSILON) {
    if (kx === 2 && ky === 2) halve(image, out);
    else blockMean(image, out, kx, ky);
  } else {
    weightedArea(image, out, areaTable(image.width, width), areaTable(image.height, height));
  }
  return out;
}

/** 2x2 block means, half up, one pass per output row over the two source rows. */
function halve(image: Image, out: Image): void {
  const src = image.data, dst = out.data, sw = image.width, dw = out.width;
  for (let y = 0; y < out.height; y++) {
    const r0 = 2 * y * sw, r1 = r0 + sw, d = y * dw;
    for (let x = 0, s0 = r0, s1 = r1; x < dw; x++, s0 += 2, s1 += 2) {
      dst[d + x] = (src[s0] + src[s0 + 1] + src[s1] + src[s1 + 1] + 2) >> 2;
    }
  }
}

/** kx x ky block means as OpenCV's scalar path: float32 `sum * (1 / area)`, rounded half to even. */
function blockMean(image: Image, out: Image, kx: number, ky: number): void {
  const src = image.data, dst = out.data, sw = image.width, dw = out.width;
  const scale = f32(1 / (kx * ky));
  for (let y = 0; y < out.height; y++) {
    for (let x = 0; x < dw; x++) {
      let sum = 0;
      for (let j = 0, r = y * ky * sw + x * kx; j < ky; j++, r += sw) {
        for (let i = 0; i < kx; i++) sum += src[r + i];
      }
      dst[y * dw + x] = roundEven(f32(sum * scale));
    }
  }
}

/** OpenCV's DecimateAlpha table: for each output index in order, the source indices it covers and weights. */
interface AreaTable {
  /** First table entry of each output index, and one past the last at [size]. */
  start: Int32Array;
  source: Int32Array;
  /** float32 weights, as OpenCV stores them. */
  weight: Float64Array;
  /** The most entries any output index has. */
  taps: number;
}

/** computeResizeAreaTab: partial pixels at either end weighted by their overlap, those under 1e-3 dropped. */
function areaTable(srcSize: number, dstSize: number): AreaTable {
  const scale = 1 / (dstSize / srcSize);
  const start = new Int32Array(dstSize + 1);
  const source: number[] = [], weight: number[] = [];
  let taps = 0;
  for (let d = 0; d < dstSize; d++) {
    start[d] = source.length;
    const fs1 = d * scale, fs2 = fs1 + scale;
    const cell = Math.min(scale, srcSize - fs1);
    const s2 = Math.min(Math.floor(fs2), srcSize - 1);
    const s1 = Math.min(Math.ceil(fs1), s2);
    if (s1 - fs1 > 1e-3) { source.push(s1 - 1); weight.push(f32((s1 - fs1) / cell)); }
    for (let s = s1; s < s2; s++) { source.push(s); weight.push(f32(1 / cell)); }
    if (fs2 - s2 > 1e-3) { source.push(s2); weight.push(f32(Math.min(fs2 - s2, 1, cell) / cell)); }
    taps = Math.max(taps, source.length - start[d]);
  }
  start[dstSize] = source.length;
  return { start, source: Int32Array.from(source), weight: Float64Array.from(weight), taps };
}

/**
 * The table-weighted area mean. Fast path: per output row, the weighted sum of its source rows, then the
 * weighted sum of each output pixel's source columns, in float64 (exact to ~1e-13). OpenCV accumulates
 * in float32, which rounds differently only when the value is within float32 error of a .5 tie: those
 * pixels are recomputed in OpenCV's float32 order.
 */
function weightedArea(image: Image, out: Image, xt: AreaTable, yt: AreaTable): void {
  const src = image.data, dst = out.data, sw = image.width, dw = out.width;
  const max = src instanceof Uint16Array ? 65535 : 255;
  // Padded horizontal taps: every output pixel reads `taps` consecutive columns from its first one
  // (zero weights past its own), so the inner loop has a fixed length.
  const taps = xt.taps;
  const first = new Int32Array(dw), w = new Float64Array(dw * taps);
  for (let x = 0; x < dw; x++) {
    first[x] = xt.source[xt.start[x]];
    for (let j = xt.start[x]; j < xt.start[x + 1]; j++) w[x * taps + xt.source[j] - first[x]] = xt.weight[j];
  }
  const band = max * 2 ** -24 * (taps + yt.taps + 2) * 4;
  const acc = new Float64Array(sw + taps);
  const ties = new Int32Array(dw);
  for (let y = 0; y < out.height; y++) {
    verticalSum(src, acc, sw, yt, y);
    const tieCount = horizontalSum(acc, first, w, taps, dst, y * dw, dw, band, ties);
    for (let k = 0; k < tieCount; k++) dst[y * dw + ties[k]] = exactPixel(src, sw, xt, yt, ties[k], y, max);
  }
}

/** acc = the weighted sum of output row y's source rows (up to three in one pass, more added after). */
function verticalSum(src: Uint8Array | Uint16Array, acc: Float64Array, sw: number, yt: AreaTable, y: number): void {
  const t0 = yt.start[y], n = yt.start[y + 1] - t0;
  const r0 = yt.source[t0] * sw, w0 = yt.weight[t0];
  if (n === 1) {
    for (let i = 0; i < sw; i++) acc[i] = src[r0 + i] * w0;
    return;
  }
  const r1 = yt.source[t0 + 1] * sw, w1 = yt.weight[t0 + 1];
  if (n === 2) {
    for (let i = 0; i < sw; i++) acc[i] = src[r0 + i] * w0 + src[r1 + i] * w1;
    return;
  }
  const r2 = yt.source[t0 + 2] * sw, w2 = yt.weight[t0 + 2];
  for (let i = 0; i < sw; i++) acc[i] = src[r0 + i] * w0 + src[r1 + i] * w1 + src[r2 + i] * w2;
  for (let t = t0 + 3; t < t0 + n; t++) {
    const r = yt.source[t] * sw, wt = yt.weight[t];
    for (let i = 0; i < sw; i++) acc[i] += src[r + i] * wt;
  }
}

/**
 * Output row = the weighted sums of `acc`, rounded; returns how many pixels lie near a .5 tie (their
 * columns in `ties`), to be recomputed exactly.
 */
function horizontalSum(
  acc: Float64Array, first: Int32Array, w: Float64Array, taps: number, dst: Uint8Array | Uint16Array, row: number, dw: number, band: number, ties: Int32Array,
): number {
  let tieCount = 0;
  for (let x = 0, k = 0; x < dw; x++) {
    const i = first[x];
    let sum: number;
    if (taps === 3) {
      sum = acc[i] * w[k] + acc[i + 1] * w[k + 1] + acc[i + 2] * w[k + 2];
      k += 3;
    } else {
      sum = 0;
      for (let j = i, end = k + taps; k < end; k++, j++) sum += acc[j] * w[k];
    }
    const t = sum + 0.5;
    const rounded = t | 0;
    const frac = t - rounded;
    dst[row + x] = rounded;
    if (frac < band || frac > 1 - band) ties[tieCount++] = x;
  }
  return tieCount;
}

/** One output pixel in OpenCV's float32 order: each source row's horizontal sum, then the vertical one. */
function exactPixel(src: Uint8Array | Uint16Array, sw: number, xt: AreaTable, yt: AreaTable, x: number, y: number, max: number): number {
  let sum = 0;
  for (let t = yt.start[y]; t < yt.start[y + 1]; t++) {
    const row = yt.source[t] * sw;
    let h = 0;
    for (let j = xt.start[x]; j < xt.start[x + 1]; j++) h = f32(h + f32(src[row + xt.source[j]] * xt.weight[j]));
    const term = f32(yt.weight[t] * h);
    sum = t === yt.start[y] ? term : f32(sum + term);
  }
  const r = roundEven(sum);
  return r < 0 ? 0 : r > max ? max : r;
}
