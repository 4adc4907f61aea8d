import { inflateSync } from 'node:zlib';
import type { Image } from './image.ts';
import { crc32 } from './png-crc.ts';
import { paeth } from './png-paeth.ts';

/** sharp's default limit on input pixels (limitInputPixels): larger images take sharp's path and its error. */
const MAX_PIXELS = 0x3fff * 0x3fff;

/** Ancillary chunks that do not change the decoded grey samples (text, time, resolution, colour hints). */
const IGNORED_CHUNKS = new Set(['tEXt', 'zTXt', 'iTXt', 'tIME', 'pHYs', 'gAMA', 'cHRM', 'sRGB', 'sBIT', 'bKGD']);

/**
 * The samples of a plain grey PNG (colour type 0, 8 or 16 bits, not interlaced, no transparency or ICC
 * profile), decoded in-process: IDAT inflated by Node's zlib, rows unfiltered here. This is what the
 * pipeline's own PNGs (convert, preprocess) are; undefined for anything else and for a file that does
 * not decode cleanly, so the caller takes sharp's path (and its error messages).
 */
export function decodePlainGreyPng(bytes: Uint8Array): Image | undefined {
  if (bytes.length < 8 + 25 || bytes[0] !== 0x89 || bytes[1] !== 0x50 || bytes[2] !== 0x4e || bytes[3] !== 0x47) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0, height = 0, bits = 0;
  const idat: Uint8Array[] = [];
  let at = 8;
  let ended = false;
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    const data = at + 8;
    if (data + length + 4 > bytes.length) return undefined;
    // critical chunks must be intact, as for sharp (libspng), which then reports the error
    if ((type === 'IHDR' || type === 'IDAT') && crc32(bytes.subarray(at + 4, data + length)) !== view.getUint32(data + length)) return undefined;
    if (type === 'IHDR') {
      if (at !== 8 || length !== 13) return undefined;
      width = view.getUint32(data);
      height = view.getUint32(data + 4);
      bits = bytes[data + 8];
      const [colourType, compression, filterMethod, interlace] = [bytes[data + 9], bytes[data + 10], bytes[data + 11], bytes[data + 12]];
      if (colourType !== 0 || (bits !== 8 && bits !== 16) || compression !== 0 || filterMethod !== 0 || interlace !== 0) return undefined;
    } else if (type === 'IDAT') idat.push(bytes.subarray(data, data + length));
    else if (type === 'IEND') {
      ended = true;
      break;
    } else if (!IGNORED_CHUNKS.has(type)) return undefined;
    at = data + length + 4;
  }
  if (!ended || !width || !height || !idat.length || width * height > MAX_PIXELS) return undefined;
  const bpp = bits / 8;
  const rowBytes = width * bpp;
  let filtered: Uint8Array;
  try {
    // one output chunk of the known size: no growing and joining of 16 KiB pieces
    filtered = inflateSync(idat.length === 1 ? idat[0] : concat(idat), { chunkSize: Math.max(64, height * (rowBytes + 1)) });
  } catch {
    return undefined;
  }
  if (filtered.length !== height * (rowBytes + 1)) return undefined;
  const samples = new Uint8Array(height * rowBytes);
  if (!unfilterRows(filtered, samples, rowBytes, height, bpp)) return undefined;
  const data = bpp === 1 ? samples : fromBigEndian(samples);
  return { data, width, height, channels: 1 };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function fromBigEndian(bytes: Uint8Array): Uint16Array {
  const out = new Uint16Array(bytes.length / 2);
  for (let i = 0, b = 0; i < out.length; i++, b += 2) out[i] = (bytes[b] << 8) | bytes[b + 1];
  return out;
}

/**
 * Reverses the per-row filters (PNG spec 9.2-9.4) from `src` (filter byte + row, per row) into `out`
 * (rows only); false on an unknown filter type. Arithmetic is modulo 256: the Uint8Array store wraps.
 * The row above counts as zeros in the first row.
 */
export function unfilterRows(src: Uint8Array, out: Uint8Array, rowBytes: number, height: number, bpp: number): boolean {
  const zeros = new Uint8Array(rowBytes);
  for (let y = 0; y < height; y++) {
    const s = y * (rowBytes + 1) + 1, r = y * rowBytes;
    const row = out.subarray(r, r + rowBytes), filtered = src.subarray(s, s + rowBytes);
    const above = y === 0 ? zeros : out.subarray(r - rowBytes, r);
    const type = src[s - 1];
    if (type === 0) row.set(filtered);
    else if (type === 2) for (let x = 0; x < rowBytes; x++) row[x] = filtered[x] + above[x];
    else if (type < 5) (bpp === 1 ? unfilterRow8 : unfilterRow)(type, filtered, row, above, bpp);
    else return false;
  }
  return true;
}

/** Sub (1), Average (3) or Paeth (4) for any bytes per pixel: the left neighbours are read back from `row`. */
function unfilterRow(type: number, filtered: Uint8Array, row: Uint8Array, above: Uint8Array, bpp: number): void {
  for (let x = 0; x < row.length; x++) {
    const a = x >= bpp ? row[x - bpp] : 0, b = above[x], c = x >= bpp ? above[x - bpp] : 0;
    row[x] = filtered[x] + (type === 1 ? a : type === 3 ? (a + b) >> 1 : paeth(a, b, c));
  }
}

/**
 * The same for one byte per pixel, with the left neighbour kept in a local: the loop-carried value then
 * does not go through memory (about 0.75x the time of unfilterRow on the 8-bit bench images).
 */
function unfilterRow8(type: number, filtered: Uint8Array, row: Uint8Array, above: Uint8Array): void {
  let a = 0, c = 0;
  if (type === 1) for (let x = 0; x < row.length; x++) row[x] = a = (filtered[x] + a) & 255;
  else if (type === 3) for (let x = 0; x < row.length; x++) row[x] = a = (filtered[x] + ((a + above[x]) >> 1)) & 255;
  else {
    for (let x = 0; x < row.length; x++) {
      const b = above[x];
      row[x] = a = (filtered[x] + paeth(a, b, c)) & 255;
      c = b;
    }
  }
}
