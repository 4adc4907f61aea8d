import * as zlib from 'node:zlib';
import type { Image } from './image.ts';
import { assertGrey } from './image.ts';
import { crc32 } from './png-crc.ts';
import { paeth } from './png-paeth.ts';

/**
 * A grey PNG (8- or 16-bit) written in-process: every row Paeth-filtered (row 0 Sub, which is what Paeth
 * reduces to there), then deflated by Node's zlib. Level 1 (the default) uses zlib's run-length strategy
 * (matches at distance 1 only, then Huffman coding): radiographs' filtered rows are small noisy residuals
 * whose rare longer repeats seldom pay for their match codes, so its files are about as small as zlib's
 * LZ77 at level 6 (smaller on most 8-bit images) in a fraction of the time (docs/data-preparation.md has
 * the measurements). Levels 2-9 run zlib's LZ77 at that level with the strategy libpng uses for filtered
 * rows (Z_FILTERED), for images with long repeated patterns; 0 stores the rows uncompressed.
 * The result owns its whole ArrayBuffer, so it can be transferred to another thread as is.
 */
export function encodeGreyPng(image: Image, level = 1): Uint8Array<ArrayBuffer> {
  assertGrey(image, 'PNG encode');
  const { width, height } = image;
  const bytesPerSample = image.data instanceof Uint16Array ? 2 : 1;
  const samples = bytesPerSample === 2 ? bigEndianBytes(image.data as Uint16Array) : (image.data as Uint8Array);
  const filtered = paethRows(samples, width * bytesPerSample, height, bytesPerSample);
  return pngOf(filtered, width, height, bytesPerSample * 8, 0, level);
}

/** An 8-bit RGB PNG (colour type 2), rows filtered and deflated as `encodeGreyPng` does. */
export function encodeRgbPng(image: Image, level = 1): Uint8Array<ArrayBuffer> {
  if (image.channels !== 3 || !(image.data instanceof Uint8Array)) throw new Error(`RGB PNG encode needs an 8-bit 3-channel image, got ${image.channels} channels`);
  return pngOf(paethRows(image.data, image.width * 3, image.height, 3), image.width, image.height, 8, 2, level);
}

/** The PNG file of filtered rows: IHDR (colour type 0 grey, 2 truecolour; compression, filter method and interlace 0), IDAT, IEND. */
function pngOf(filtered: Uint8Array, width: number, height: number, bitDepth: number, colourType: 0 | 2, level: number): Uint8Array<ArrayBuffer> {
  const strategy = level === 1 ? zlib.constants.Z_RLE : zlib.constants.Z_FILTERED;
  const idat = zlib.deflateSync(filtered, { level, strategy });
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = bitDepth;
  header[9] = colourType;
  return pngFile([chunk('IHDR', header), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function pngFile(chunks: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(SIGNATURE.length + chunks.reduce((n, c) => n + c.length, 0));
  out.set(SIGNATURE);
  let at = SIGNATURE.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** length, type, data, CRC-32 of type and data (PNG spec 5.3). */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** 16-bit samples as PNG stores them: most significant byte first. */
function bigEndianBytes(samples: Uint16Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  for (let i = 0, o = 0; i < samples.length; i++, o += 2) {
    const v = samples[i];
    out[o] = v >> 8;
    out[o + 1] = v;
  }
  return out;
}

/**
 * The filtered scanlines: each row is its filter-type byte then the differences from the Paeth
 * predictor (PNG spec 9.4), byte-wise over `bpp`-byte pixels, modulo 256 (the Uint8Array store wraps).
 */
export function paethRows(src: Uint8Array, rowBytes: number, height: number, bpp: number): Uint8Array {
  const out = new Uint8Array(height * (rowBytes + 1));
  if (height === 0) return out;
  let o = 0;
  out[o++] = 1; // Sub: Paeth's choice when there is no row above
  for (let x = 0; x < rowBytes; x++) out[o++] = src[x] - (x >= bpp ? src[x - bpp] : 0);
  for (let y = 1; y < height; y++) {
    out[o++] = 4;
    const r = y * rowBytes, p = r - rowBytes;
    for (let x = 0; x < bpp && x < rowBytes; x++) out[o++] = src[r + x] - src[p + x];
    for (let x = bpp; x < rowBytes; x++) {
      out[o++] = src[r + x] - paeth(src[r + x - bpp], src[p + x], src[p + x - bpp]);
    }
  }
  return out;
}
