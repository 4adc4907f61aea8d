import { assertGrey, blankLike, roundEven, type Image } from './image.ts';

export interface ClaheOptions {
  /** Contrast limit, in multiples of the mean histogram bin height (OpenCV's clipLimit); 0 disables clipping. */
  clip: number;
  /** Tile grid: columns and rows (OpenCV's tileGridSize). */
  tilesX: number;
  tilesY: number;
}

const f32 = Math.fround;

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

/** Tile geometry, OpenCV's: the tile size covers the image padded (reflect-101) up to a multiple of the grid. */
interface Grid {
  width: number;
  height: number;
  tilesX: number;
  tilesY: number;
  tileW: number;
  tileH: number;
  histSize: number;
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
  // OpenCV pads both axes as soon as one does not divide (by `tiles` pixels on an axis that divides);
  // copied for identical results.
  const divides = width % tilesX === 0 && height % tilesY === 0;
  const padX = divides ? 0 : tilesX - (width % tilesX);
  const padY = divides ? 0 : tilesY - (height % tilesY);
  const grid: Grid = { width, height, tilesX, tilesY, tileW: (width + padX) / tilesX, tileH: (height + padY) / tilesY, histSize };
  const luts = tileLuts(data, grid, options.clip);
  const out = blankLike(image, width, height);
  if (is16) interpolate16(data as Uint16Array, luts as Uint16Array, out.data as Uint16Array, grid);
  else interpolate8(data as Uint8Array, luts as Uint8Array, out.data as Uint8Array, grid);
  return out;
}

/** The clipped, equalising LUT of every tile: `luts[(ty * tilesX + tx) * histSize + value]`. */
function tileLuts(data: Uint8Array | Uint16Array, grid: Grid, clip: number): Uint8Array | Uint16Array {
  const { width, height, tilesX, tilesY, tileW, tileH, histSize } = grid;
  const maxVal = histSize - 1;
  const tileArea = tileW * tileH;
  const lutScale = f32(maxVal / tileArea);
  const clipLimit = clip > 0 ? Math.max(1, Math.trunc((clip * tileArea) / histSize)) : 0;
  const luts = histSize === 65536 ? new Uint16Array(tilesX * tilesY * histSize) : new Uint8Array(tilesX * tilesY * histSize);
  // Columns past the right edge (the padding) read reflected columns.
  const padCols = new Int32Array(tilesX * tileW - width);
  for (let i = 0; i < padCols.length; i++) padCols[i] = reflect101(width + i, width);
  // 8-bit: four interleaved histograms per tile (pixel i counts in lane i % 4), summed after, so runs of
  // equal values (flat image areas) do not chain increments of one counter.
  const lanes = histSize === 256 ? 4 : 1;
  const stride = lanes * histSize;
  const hists = new Int32Array(tilesX * stride);
  const hist = new Int32Array(histSize);
  for (let ty = 0; ty < tilesY; ty++) {
    hists.fill(0);
    // One pass over the tile row's image rows, each row split between the tiles it crosses.
    for (let j = 0; j < tileH; j++) {
      const row = reflect101(ty * tileH + j, height) * width;
      for (let tx = 0; tx < tilesX; tx++) {
        const base = tx * stride, x0 = tx * tileW, x1 = Math.min(x0 + tileW, width);
        if (lanes === 4) countRow4(data as Uint8Array, row + x0, row + x1, hists, base);
        else for (let i = row + x0, end = row + x1; i < end; i++) hists[base + data[i]]++;
        for (let x = Math.max(x0, width); x < x0 + tileW; x++) hists[base + data[row + padCols[x - width]]]++;
      }
    }
    for (let tx = 0; tx < tilesX; tx++) {
      const base = tx * stride;
      for (let v = 0; v < histSize; v++) {
        let n = 0;
        for (let lane = 0; lane < lanes; lane++) n += hists[base + lane * histSize + v];
        hist[v] = n;
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
  return luts;
}

/** Counts data[start..end) into four 256-bin lanes at hists[base..]. */
function countRow4(data: Uint8Array, start: number, end: number, hists: Int32Array, base: number): void {
  let i = start;
  for (; i + 3 < end; i += 4) {
    hists[base + data[i]]++;
    hists[base + 256 + data[i + 1]]++;
    hists[base + 512 + data[i + 2]]++;
    hists[base + 768 + data[i + 3]]++;
  }
  for (; i < end; i++) hists[base + data[i]]++;
}

/**
 * Per column: the float32 weights of the left and right tile (OpenCV's xa1, xa) and the index of the
 * left tile's centre pair, `tx1 + 1` in 0..tilesX (0 and tilesX are the clamped half-tiles at the edges).
 */
function columnWeights(grid: Grid) {
  const { width, tilesX } = grid;
  const invTw = f32(1 / grid.tileW);
  const pair = new Int32Array(width);
  const wLeft = new Float64Array(width), wRight = new Float64Array(width);
  for (let x = 0; x < width; x++) {
    const txf = f32(f32(x * invTw) - 0.5);
    const t1 = Math.floor(txf);
    wRight[x] = f32(txf - t1);
    wLeft[x] = f32(1 - wRight[x]);
    pair[x] = Math.min(Math.max(t1 + 1, 0), tilesX);
  }
  return { pair, wLeft, wRight };
}

/** The row's float32 weights of the upper and lower tile and their tile rows, as OpenCV computes them. */
function rowWeights(y: number, invTh: number, tilesY: number) {
  const tyf = f32(f32(y * invTh) - 0.5);
  const t1 = Math.floor(tyf);
  const wDown = f32(tyf - t1);
  return { wUp: f32(1 - wDown), wDown, up: Math.max(t1, 0), down: Math.min(t1 + 1, tilesY - 1), pair: t1 + 1 };
}

/** OpenCV's float32 bilinear blend of four LUT values, rounded half to even: the exact (slow) path. */
function blendExact(l11: number, l12: number, l21: number, l22: number, w1: number, w2: number, wUp: number, wDown: number): number {
  const a = f32(f32(l11 * w1) + f32(l12 * w2));
  const b = f32(f32(l21 * w1) + f32(l22 * w2));
  return roundEven(f32(f32(a * wUp) + f32(b * wDown)));
}

// The blends below run in float64, much faster than emulating float32 step by step. Both round the same
// unless the value lies within float32 error (< 1e-4 grey levels for 8 bits, < 0.03 for 16) of a .5 tie:
// only pixels within a band around ties (1/1024 for 8 bits, TIE_BAND x 65535 = 0.26 for 16) take the exact
// float32 path (about 0.3% of pixels). Away from ties, half up equals OpenCV's half to even.
const TIE_BAND = 4e-6;

/**
 * 8-bit bilinear interpolation between the four nearest tile LUTs, as OpenCV's CLAHE_Interpolation_Body.
 * For each band of rows between two tile rows, the four LUT values a pixel needs are packed into one
 * int32 per (tile column pair, grey value), so each pixel does one table load.
 */
function interpolate8(data: Uint8Array, luts: Uint8Array, dst: Uint8Array, grid: Grid): void {
  const { width, height, tilesX, tilesY } = grid;
  const { pair, wLeft, wRight } = columnWeights(grid);
  // Columns of one tile centre pair are contiguous: segmentEnd[p] is one past pair p's last column.
  const segmentEnd = new Int32Array(tilesX + 1);
  for (let x = 0; x < width; x++) segmentEnd[pair[x]] = x + 1;
  for (let p = 1; p <= tilesX; p++) segmentEnd[p] = Math.max(segmentEnd[p], segmentEnd[p - 1]);
  const invTh = f32(1 / grid.tileH);
  const packed = new Int32Array((tilesX + 1) * 256);
  let packedPair = -1;
  for (let y = 0; y < height; y++) {
    const r = rowWeights(y, invTh, tilesY);
    if (r.pair !== packedPair) {
      packBand(luts, r.up * tilesX * 256, r.down * tilesX * 256, tilesX, packed);
      packedPair = r.pair;
    }
    blendRow8(data, dst, y * width, width, packed, segmentEnd, wLeft, wRight, r.wUp, r.wDown);
  }
}

/** packed[(p * 256 + v)] = up-left | up-right << 8 | down-left << 16 | down-right << 24 for centre pair p. */
function packBand(luts: Uint8Array, upPlane: number, downPlane: number, tilesX: number, packed: Int32Array): void {
  for (let p = 0; p <= tilesX; p++) {
    const left = Math.max(p - 1, 0) * 256, right = Math.min(p, tilesX - 1) * 256;
    for (let v = 0, o = p * 256; v < 256; v++, o++) {
      packed[o] = luts[upPlane + left + v] | (luts[upPlane + right + v] << 8) | (luts[downPlane + left + v] << 16) | (luts[downPlane + right + v] << 24);
    }
  }
}

/** Row indices of pixels near a rounding tie, revisited on the exact path after the fast loop. */
let tieColumns = new Int32Array(1024);

function blendRow8(
  data: Uint8Array, dst: Uint8Array, row: number, width: number, packed: Int32Array, segmentEnd: Int32Array,
  wLeft: Float64Array, wRight: Float64Array, wUp: number, wDown: number,
): void {
  if (tieColumns.length < width) tieColumns = new Int32Array(width);
  const ties = tieColumns;
  let tieCount = 0;
  for (let pair = 0, x = 0; pair < segmentEnd.length; pair++) {
    const base = pair * 256;
    for (const end = segmentEnd[pair]; x < end; x++) {
      const i = row + x;
      const p = packed[base + data[i]];
      const l11 = p & 255;
      // Four equal LUT values blend to that value (the weights sum to 1 within float32 error).
      if (((p >> 8) & 0xffffff) === (p & 0xffffff)) {
        dst[i] = l11;
        continue;
      }
      // Blended as lerps (1 - w for the left and upper weights: within 2^-25 of OpenCV's float32 ones).
      const w2 = wRight[x];
      const l21 = (p >> 16) & 255;
      const top = l11 + (((p >> 8) & 255) - l11) * w2, bottom = l21 + (((p >> 24) & 255) - l21) * w2;
      // value + 0.5 in fixed point with 10 fraction bits: the integer part is the value rounded half up,
      // and a fraction within 1/1024 of 0 (the value within 1/1024 of a .5 tie) sends it to the exact path.
      const fixed = ((top + (bottom - top) * wDown) * 1024 + 512) | 0;
      dst[i] = fixed >> 10;
      if ((((fixed & 1023) + 1) & 1022) === 0) ties[tieCount++] = x;
    }
  }
  for (let k = 0; k < tieCount; k++) {
    const x = ties[k], i = row + x;
    const p = packed[segmentBase(segmentEnd, x) + data[i]];
    dst[i] = blendExact(p & 255, (p >> 8) & 255, (p >> 16) & 255, (p >> 24) & 255, wLeft[x], wRight[x], wUp, wDown);
  }
}

function segmentBase(segmentEnd: Int32Array, x: number): number {
  let pair = 0;
  while (segmentEnd[pair] <= x) pair++;
  return pair * 256;
}

/** 16-bit bilinear interpolation between the four nearest tile LUTs (a 65536-entry LUT per tile). */
function interpolate16(data: Uint16Array, luts: Uint16Array, dst: Uint16Array, grid: Grid): void {
  const { width, height, tilesX, tilesY } = grid;
  const { pair, wLeft, wRight } = columnWeights(grid);
  const ind1 = pair.map((p) => Math.max(p - 1, 0) * 65536);
  const ind2 = pair.map((p) => Math.min(p, tilesX - 1) * 65536);
  const invTh = f32(1 / grid.tileH);
  const band = 65535 * TIE_BAND;
  for (let y = 0; y < height; y++) {
    const { wUp, wDown, up, down } = rowWeights(y, invTh, tilesY);
    const plane1 = up * tilesX * 65536, plane2 = down * tilesX * 65536;
    for (let x = 0, i = y * width; x < width; x++, i++) {
      const v = data[i];
      const l11 = luts[plane1 + ind1[x] + v], l12 = luts[plane1 + ind2[x] + v];
      const l21 = luts[plane2 + ind1[x] + v], l22 = luts[plane2 + ind2[x] + v];
      const w1 = wLeft[x], w2 = wRight[x];
      const t = (l11 * w1 + l12 * w2) * wUp + (l21 * w1 + l22 * w2) * wDown + 0.5;
      const rounded = Math.floor(t);
      const frac = t - rounded;
      dst[i] = frac > band && frac < 1 - band ? rounded : blendExact(l11, l12, l21, l22, w1, w2, wUp, wDown);
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
