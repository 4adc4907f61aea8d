import { maskSamples } from './kernels.ts';
import type { DicomHeader } from './parse.ts';

/** Bytes per sample in decoded (unpacked) little-endian data. */
export function bytesPerSample(bitsAllocated: number): 1 | 2 | 4 {
  return bitsAllocated <= 8 ? 1 : bitsAllocated <= 16 ? 2 : 4;
}

type BitsHeader = Pick<DicomHeader, 'bitsAllocated' | 'bitsStored' | 'highBit' | 'pixelRepresentation'>;

/** One raw sample word -> its stored value (the per-value form of `storedValues`). */
export function storedTransform(h: BitsHeader): (raw: number) => number {
  const stored = Math.min(h.bitsStored, 32);
  if (stored >= 32) return (v) => v;
  const shift = Math.max(0, h.highBit + 1 - stored);
  const mask = stored === 31 ? 0x7fffffff : (1 << stored) - 1;
  const signBit = 2 ** (stored - 1);
  const wrap = 2 ** stored;
  if (h.pixelRepresentation !== 1) return (v) => (v >>> shift) & mask;
  return (v) => {
    const m = (v >>> shift) & mask;
    return m >= signBit ? m - wrap : m;
  };
}

/** Interleaved little-endian sample bytes as 8-, 16- or 32-bit words (a view when aligned, else a copy). */
export function sampleWords(bytes: Uint8Array, bitsAllocated: number, count: number): Uint8Array | Uint16Array | Uint32Array {
  const width = bytesPerSample(bitsAllocated);
  if (bytes.length < count * width) throw new Error(`decoded frame has ${bytes.length} bytes, expected ${count * width}`);
  if (width === 1) return bytes.subarray(0, count);
  const aligned = bytes.byteOffset % width === 0;
  const source = aligned ? bytes : bytes.slice(0, count * width);
  return width === 2 ? new Uint16Array(source.buffer, source.byteOffset, count) : new Uint32Array(source.buffer, source.byteOffset, count);
}

/**
 * Interleaved little-endian samples -> stored pixel values: bits above High Bit and below
 * High Bit - Bits Stored + 1 are masked off, and two's-complement values sign-extended from Bits Stored.
 */
export function storedValues(bytes: Uint8Array, h: BitsHeader, count: number): Int32Array {
  const raw = sampleWords(bytes, h.bitsAllocated, count);
  return wordsToStored(raw, h);
}

export function wordsToStored(raw: Uint8Array | Uint16Array | Uint32Array, h: BitsHeader): Int32Array {
  const count = raw.length;
  const stored = Math.min(h.bitsStored, 32);
  const shift = Math.max(0, h.highBit + 1 - stored);
  const signed = h.pixelRepresentation === 1;
  const out = new Int32Array(count);
  if (stored >= 32) {
    for (let i = 0; i < count; i++) out[i] = raw[i];
    return out;
  }
  maskSamples(raw, out, count, shift, stored === 31 ? 0x7fffffff : (1 << stored) - 1, 2 ** (stored - 1), 2 ** stored, signed ? 1 : 0);
  return out;
}
