import { maskSamples } from './kernels.ts';
import type { DicomHeader } from './parse.ts';
import { typedView } from '../../util/typed-view.ts';

/** Bytes per sample in decoded (unpacked) little-endian data. */
export function bytesPerSample(bitsAllocated: number): 1 | 2 | 4 | 8 {
  return bitsAllocated <= 8 ? 1 : bitsAllocated <= 16 ? 2 : bitsAllocated <= 32 ? 4 : 8;
}

type BitsHeader = Pick<DicomHeader, 'bitsAllocated' | 'bitsStored' | 'highBit' | 'pixelRepresentation'>;

/** Shift, mask and sign handling that turn a raw sample word into its stored value (PS3.5 8.1.1). */
function bitLayout(h: BitsHeader): { stored: number; shift: number; mask: number; signBit: number; wrap: number; signed: boolean } {
  const stored = Math.max(1, Math.min(h.bitsStored, h.bitsAllocated, 32));
  const shift = Math.max(0, Math.min(h.highBit + 1 - stored, h.bitsAllocated - stored));
  return { stored, shift, mask: stored >= 32 ? 0xffffffff : 2 ** stored - 1, signBit: 2 ** (stored - 1), wrap: 2 ** stored, signed: h.pixelRepresentation === 1 };
}

/** One raw sample word -> its stored value (the per-value form of `storedValues`). */
export function storedTransform(h: BitsHeader): (raw: number) => number {
  const { stored, shift, mask, signBit, wrap, signed } = bitLayout(h);
  if (stored >= 32) return signed ? (v) => v | 0 : (v) => v >>> 0;
  if (!signed) return (v) => ((v >>> shift) & mask) >>> 0;
  return (v) => {
    const m = ((v >>> shift) & mask) >>> 0;
    return m >= signBit ? m - wrap : m;
  };
}

/** Interleaved little-endian sample bytes as 8-, 16- or 32-bit words (a view when aligned, else a copy). */
export function sampleWords(bytes: Uint8Array, bitsAllocated: number, count: number): Uint8Array | Uint16Array | Uint32Array {
  const width = bytesPerSample(bitsAllocated);
  if (bytes.length < count * width) throw new Error(`decoded frame has ${bytes.length} bytes, expected ${count * width}`);
  if (width === 1) return bytes.subarray(0, count);
  if (width === 2) return typedView(bytes, Uint16Array, count);
  if (width === 4) return typedView(bytes, Uint32Array, count);
  throw new Error(`Bits Allocated ${bitsAllocated} is only supported for Double Float Pixel Data`);
}

/**
 * Interleaved little-endian samples -> stored pixel values: bits above High Bit and below
 * High Bit - Bits Stored + 1 are masked off, and two's-complement values sign-extended from Bits Stored.
 */
export function storedValues(bytes: Uint8Array, h: BitsHeader, count: number): Int32Array | Float64Array {
  return wordsToStored(sampleWords(bytes, h.bitsAllocated, count), h);
}

/** Stored values of raw words: Int32Array up to 16 bits allocated, Float64Array for 32 (an unsigned 32-bit value does not fit an Int32Array). */
export function wordsToStored(raw: Uint8Array | Uint16Array | Uint32Array, h: BitsHeader): Int32Array | Float64Array {
  const count = raw.length;
  if (raw instanceof Uint32Array) {
    const f = storedTransform(h);
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = f(raw[i]);
    return out;
  }
  const { stored, shift, mask, signBit, wrap, signed } = bitLayout(h);
  const out = new Int32Array(count);
  maskSamples(raw, out, count, shift, mask, signBit, wrap, signed && stored < 32 ? 1 : 0);
  return out;
}

/** Float / Double Float Pixel Data (little-endian bytes) as values. */
export function floatValues(bytes: Uint8Array, type: 'float32' | 'float64', count: number): Float64Array {
  return type === 'float32' ? Float64Array.from(typedView(bytes, Float32Array, count)) : Float64Array.from(typedView(bytes, Float64Array, count));
}
