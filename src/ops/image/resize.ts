import { blankLike, saturate, type Image } from './image.ts';
import { areaDownscale } from './resize-area.ts';

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
 * covers, partial pixels weighted by overlap, with OpenCV's weights and rounding (see areaDownscale).
 * Enlarging falls back to bilinear, as OpenCV nearly does.
 */
export function resizeArea(image: Image, width: number, height: number): Image {
  if (width > image.width || height > image.height) return resizeBilinear(image, width, height);
  if (image.channels !== 1) return mergeChannels(splitChannels(image).map((ch) => resizeArea(ch, width, height)));
  return areaDownscale(image, width, height);
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
