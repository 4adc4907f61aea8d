import { blankLike, saturate, type Image } from './image.ts';

export type ResizeFit = 'pad' | 'stretch';

export interface ResizeGeometry {
  /** Size of the resampled content. */
  scaledWidth: number;
  scaledHeight: number;
  /** Offset of the content inside the output (padding on the left / top). */
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Where the content goes in a `width` x `height` output: `stretch` fills it; `pad` keeps the aspect
 * ratio (scale = min of the two ratios) and centres the content, padding the rest.
 */
export function resizeGeometry(srcWidth: number, srcHeight: number, width: number, height: number, fit: ResizeFit): ResizeGeometry {
  if (fit === 'stretch') return { scaledWidth: width, scaledHeight: height, left: 0, top: 0, width, height };
  const scale = Math.min(width / srcWidth, height / srcHeight);
  const scaledWidth = Math.max(1, Math.min(width, Math.round(srcWidth * scale)));
  const scaledHeight = Math.max(1, Math.min(height, Math.round(srcHeight * scale)));
  const left = (width - scaledWidth) >> 1;
  const top = (height - scaledHeight) >> 1;
  return { scaledWidth, scaledHeight, left, top, width, height };
}

/** Places `image` at (left, top) on a `width` x `height` canvas filled with `value`. */
export function pad(image: Image, width: number, height: number, left: number, top: number, value: number): Image {
  const out = blankLike(image, width, height);
  if (value !== 0) out.data.fill(value);
  const c = image.channels;
  for (let y = 0; y < image.height; y++) {
    out.data.set(image.data.subarray(y * image.width * c, (y + 1) * image.width * c), ((top + y) * width + left) * c);
  }
  return out;
}

/**
 * Bilinear resampling with OpenCV's INTER_LINEAR pixel-centre mapping (src = (dst + 0.5) * scale - 0.5,
 * clamped at the edges). Computed in float64 and rounded: within 1 grey level of OpenCV's fixed point.
 */
export function resizeBilinear(image: Image, width: number, height: number): Image {
  const out = blankLike(image, width, height);
  const c = image.channels, sw = image.width, src = image.data, dst = out.data;
  const max = image.data instanceof Uint16Array ? 65535 : 255;
  const xs = linearTaps(image.width, width);
  const ys = linearTaps(image.height, height);
  for (let y = 0; y < height; y++) {
    const r0 = ys.i0[y] * sw, r1 = ys.i1[y] * sw, fy = ys.f[y];
    for (let x = 0; x < width; x++) {
      const x0 = xs.i0[x], x1 = xs.i1[x], fx = xs.f[x];
      for (let ch = 0; ch < c; ch++) {
        const a = src[(r0 + x0) * c + ch] * (1 - fx) + src[(r0 + x1) * c + ch] * fx;
        const b = src[(r1 + x0) * c + ch] * (1 - fx) + src[(r1 + x1) * c + ch] * fx;
        dst[(y * width + x) * c + ch] = saturate(a * (1 - fy) + b * fy, max);
      }
    }
  }
  return out;
}

function linearTaps(srcSize: number, dstSize: number) {
  const scale = srcSize / dstSize;
  const i0 = new Int32Array(dstSize), i1 = new Int32Array(dstSize), f = new Float64Array(dstSize);
  for (let d = 0; d < dstSize; d++) {
    const s = (d + 0.5) * scale - 0.5;
    let s0 = Math.floor(s);
    let frac = s - s0;
    if (s0 < 0) { s0 = 0; frac = 0; }
    if (s0 >= srcSize - 1) { s0 = srcSize - 1; frac = 0; }
    i0[d] = s0;
    i1[d] = Math.min(s0 + 1, srcSize - 1);
    f[d] = frac;
  }
  return { i0, i1, f };
}

/**
 * Area averaging (OpenCV's INTER_AREA for shrinking): each output pixel is the mean of the source area it
 * covers, partial pixels weighted by overlap. Enlarging falls back to bilinear, as OpenCV nearly does.
 */
export function resizeArea(image: Image, width: number, height: number): Image {
  if (width > image.width || height > image.height) return resizeBilinear(image, width, height);
  if (image.channels !== 1) return mergeChannels(splitChannels(image).map((ch) => resizeArea(ch, width, height)));
  const sw = image.width, sh = image.height, src = image.data;
  const { index: xi, weight: xw, taps } = paddedTaps(sw, width);
  const { index: yi, weight: yw, start: ys } = areaTaps(sh, height);
  const out = blankLike(image, width, height);
  const dst = out.data;
  // Per output row: the weighted sum of the source rows it covers (contiguous, cheap), then a fixed
  // number of horizontal taps over that one row.
  const acc = new Float64Array(sw);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let t = ys[y]; t < ys[y + 1]; t++) {
      const base = yi[t] * sw, w = yw[t];
      for (let i = 0; i < sw; i++) acc[i] += src[base + i] * w;
    }
    const drow = y * width;
    for (let x = 0, k = 0; x < width; x++) {
      let sum = 0;
      for (const end = k + taps; k < end; k++) sum += acc[xi[k]] * xw[k];
      // Half up, as OpenCV's fast integer-factor path; weights sum to 1, so no clamping is needed.
      dst[drow + x] = (sum + 0.5) | 0;
    }
  }
  return out;
}

/** areaTaps with every output given the same number of taps (zero-weight padding): a tighter inner loop. */
function paddedTaps(srcSize: number, dstSize: number) {
  const t = areaTaps(srcSize, dstSize);
  let taps = 1;
  for (let d = 0; d < dstSize; d++) taps = Math.max(taps, t.start[d + 1] - t.start[d]);
  const index = new Int32Array(dstSize * taps), weight = new Float64Array(dstSize * taps);
  for (let d = 0; d < dstSize; d++) {
    for (let k = 0; k < taps; k++) {
      const j = t.start[d] + k;
      const real = j < t.start[d + 1];
      index[d * taps + k] = real ? t.index[j] : t.index[t.start[d]];
      weight[d * taps + k] = real ? t.weight[j] : 0;
    }
  }
  return { index, weight, taps };
}

function splitChannels(image: Image): Image[] {
  return Array.from({ length: image.channels }, (_, ch) => {
    const plane = blankLike(image, image.width, image.height, 1);
    for (let i = 0; i < plane.data.length; i++) plane.data[i] = image.data[i * image.channels + ch];
    return plane;
  });
}

function mergeChannels(planes: Image[]): Image {
  const out = blankLike(planes[0], planes[0].width, planes[0].height, planes.length);
  planes.forEach((p, ch) => p.data.forEach((v, i) => (out.data[i * planes.length + ch] = v)));
  return out;
}

/** For each output index, the source indices it covers and their overlap weights (summing to 1). */
function areaTaps(srcSize: number, dstSize: number) {
  const scale = srcSize / dstSize;
  const index: number[] = [], weight: number[] = [];
  const start = new Int32Array(dstSize + 1);
  for (let d = 0; d < dstSize; d++) {
    start[d] = index.length;
    const a = d * scale, b = (d + 1) * scale;
    for (let s = Math.floor(a); s < Math.min(Math.ceil(b - 1e-9), srcSize); s++) {
      const overlap = Math.min(b, s + 1) - Math.max(a, s);
      if (overlap > 1e-9) { index.push(s); weight.push(overlap / scale); }
    }
  }
  start[dstSize] = index.length;
  return { index: Int32Array.from(index), weight: Float64Array.from(weight), start };
}
