import { assertGrey, blankLike, type Image } from './image.ts';

export interface ClaheOptions {
  /** Contrast limit, in multiples of the mean histogram bin height (OpenCV's clipLimit); 0 disables clipping. */
  clip: number;
  /** Tile grid: columns and rows (OpenCV's tileGridSize). */
  tilesX: number;
  tilesY: number;
}

const f32 = Math.fround;

/** Round half to even, as C's lrint (OpenCV's cvRound) does under the default rounding mode. */
function roundEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

function saturateEven(v: number, max: number): number {
  const r = roundEven(v);
  return r < 0 ? 0 : r > max ? max : r;
}

/** BORDER_REFLECT_101 index: ... 2 1 | 0 1 2 ... n-2 n-1 | n-2 ... */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

/**
 * Contrast Limited Adaptive Histogram Equalisation, following OpenCV's `createCLAHE().apply` step for
 * step (tile histograms over a reflect-101 padded image when the grid does not divide it, clip and
 * redistribute, per-tile LUTs, bilinear interpolation between tile centres in float32), so results
 * match OpenCV. 8-bit images use 256 bins, 16-bit ones 65536.
 */
export function clahe(image: Image, options: ClaheOptions): Image {
  assertGrey(image, 'clahe');
  const { width, height, data } = image;
  const { tilesX, tilesY } = options;
  if (!(tilesX >= 1 && tilesY >= 1)) throw new Error(`clahe tiles must be >= 1, got ${tilesX}x${tilesY}`);
  const is16 = data instanceof Uint16Array;
  const histSize = is16 ? 65536 : 256;
  const maxVal = histSize - 1;
  // OpenCV pads both axes as soon as one does not divide, a whole extra tile row/column on an axis that
  // divides; copied for identical results.
  const divides = width % tilesX === 0 && height % tilesY === 0;
  const padX = divides ? 0 : tilesX - (width % tilesX);
  const padY = divides ? 0 : tilesY - (height % tilesY);
  const tileW = (width + padX) / tilesX;
  const tileH = (height + padY) / tilesY;
  const tileArea = tileW * tileH;
  const lutScale = f32(maxVal / tileArea);
  let clipLimit = 0;
  if (options.clip > 0) clipLimit = Math.max(1, Math.trunc((options.clip * tileArea) / histSize));

  const luts = is16 ? new Uint16Array(tilesX * tilesY * histSize) : new Uint8Array(tilesX * tilesY * histSize);
  const hist = new Int32Array(histSize);
  const colIndex = new Int32Array(tileW);
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++) {
      hist.fill(0);
      for (let i = 0; i < tileW; i++) colIndex[i] = reflect101(tx * tileW + i, width);
      for (let j = 0; j < tileH; j++) {
        const rowStart = reflect101(ty * tileH + j, height) * width;
        for (let i = 0; i < tileW; i++) hist[data[rowStart + colIndex[i]]]++;
      }
      if (clipLimit > 0) clipHistogram(hist, clipLimit);
      const lutBase = (ty * tilesX + tx) * histSize;
      let sum = 0;
      for (let i = 0; i < histSize; i++) {
        sum += hist[i];
        luts[lutBase + i] = saturateEven(f32(sum * lutScale), maxVal);
      }
    }
  }

  const out = blankLike(image, width, height);
  // A clamped view rounds half to even and saturates exactly like OpenCV's saturate_cast<uchar>.
  const dst = is16 ? (out.data as Uint16Array) : new Uint8ClampedArray(out.data.buffer, out.data.byteOffset, out.data.length);
  interpolate({ data, luts, dst, width, height, tilesX, tilesY, tileW, tileH, histSize, roundEven: is16 });
  return out;
}

interface InterpolationInput {
  data: Uint8Array | Uint16Array;
  luts: Uint8Array | Uint16Array;
  dst: Uint8ClampedArray | Uint16Array;
  width: number;
  height: number;
  tilesX: number;
  tilesY: number;
  tileW: number;
  tileH: number;
  histSize: number;
  /** Round half to even before storing (16-bit; the 8-bit clamped view does it itself). */
  roundEven: boolean;
}

/** Bilinear interpolation between the four nearest tile LUTs, as OpenCV's CLAHE_Interpolation_Body. */
function interpolate(p: InterpolationInput): void {
  const { data, luts, dst, width, height, tilesX, tilesY, histSize, roundEven: even } = p;
  const maxVal = histSize - 1;
  const invTw = f32(1 / p.tileW);
  const invTh = f32(1 / p.tileH);
  const ind1 = new Int32Array(width), ind2 = new Int32Array(width);
  const xa = new Float32Array(width), xa1 = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const txf = f32(f32(x * invTw) - 0.5);
    const t1 = Math.floor(txf);
    xa[x] = f32(txf - t1);
    xa1[x] = f32(1 - xa[x]);
    ind1[x] = Math.max(t1, 0) * histSize;
    ind2[x] = Math.min(t1 + 1, tilesX - 1) * histSize;
  }
  // float64 is much faster than emulating float32 step by step and rounds the same unless the value is
  // within float32 error of a .5 tie; only those pixels take OpenCV's exact float32 path.
  const tieBand = maxVal * 4e-6;
  for (let y = 0; y < height; y++) {
    const tyf = f32(f32(y * invTh) - 0.5);
    const t1 = Math.floor(tyf);
    const ya = f32(tyf - t1);
    const ya1 = f32(1 - ya);
    const plane1 = Math.max(t1, 0) * tilesX * histSize;
    const plane2 = Math.min(t1 + 1, tilesY - 1) * tilesX * histSize;
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const v = data[row + x];
      const i1 = ind1[x] + v, i2 = ind2[x] + v, w1 = xa1[x], w2 = xa[x];
      const l11 = luts[plane1 + i1], l12 = luts[plane1 + i2], l21 = luts[plane2 + i1], l22 = luts[plane2 + i2];
      let value = (l11 * w1 + l12 * w2) * ya1 + (l21 * w1 + l22 * w2) * ya;
      const frac = value - (value | 0);
      if (frac > 0.5 - tieBand && frac < 0.5 + tieBand) {
        const a = f32(f32(l11 * w1) + f32(l12 * w2));
        const b = f32(f32(l21 * w1) + f32(l22 * w2));
        value = f32(f32(a * ya1) + f32(b * ya));
        if (even) value = saturateEven(value, maxVal);
      } else if (even) value = Math.round(value);
      dst[row + x] = value;
    }
  }
}

/** Clips bins at `limit` and spreads the excess evenly, the remainder at a regular step (OpenCV's order). */
export function clipHistogram(hist: Int32Array, limit: number): void {
  const n = hist.length;
  let clipped = 0;
  for (let i = 0; i < n; i++) {
    if (hist[i] > limit) {
      clipped += hist[i] - limit;
      hist[i] = limit;
    }
  }
  const batch = Math.trunc(clipped / n);
  let residual = clipped - batch * n;
  for (let i = 0; i < n; i++) hist[i] += batch;
  if (residual !== 0) {
    const step = Math.max(Math.trunc(n / residual), 1);
    for (let i = 0; i < n && residual > 0; i += step, residual--) hist[i]++;
  }
}
