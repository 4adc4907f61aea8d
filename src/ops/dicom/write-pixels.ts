import { encodeRleFrame } from './rle.ts';

/** Pixel values as the writer takes them: one value per sample, samples interleaved, frames one after the other. */
export type PixelValues = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** How the writer lays pixel values out in Pixel Data (PS3.3 C.7.6.3, PS3.5 8). */
export interface PixelLayout {
  rows: number;
  columns: number;
  samples: number;
  frames: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: number;
  /** 1: all samples of one colour plane, then the next (per frame). */
  planar: number;
  /**
   * The bits above High Bit: `sign` repeats the sign bit (as most writers do, and what pydicom, which does
   * not sign-extend, needs), `zero` leaves them 0, `ones` sets them (like overlay bits readers must mask).
   */
  highBits: 'sign' | 'zero' | 'ones';
  /** Native YBR_FULL_422 stores Y0 Y1 Cb Cr per pixel pair (the chroma of the even pixel is kept). */
  subsampled422: boolean;
  float: boolean;
}

/** Native little-endian bytes of all frames. */
export function nativeBytes(pixels: PixelValues, layout: PixelLayout): Uint8Array {
  if (layout.float) {
    const copy = pixels instanceof Float64Array ? Float64Array.from(pixels) : Float32Array.from(pixels);
    return new Uint8Array(copy.buffer);
  }
  const values = frameOrdered(pixels, layout);
  if (layout.bitsAllocated === 1) return packBits(values);
  const width = layout.bitsAllocated / 8;
  const out = new Uint8Array(values.length * width);
  const view = new DataView(out.buffer);
  const scale = 2 ** (layout.highBit + 1 - layout.bitsStored);
  const range = 2 ** layout.bitsStored;
  const above = 2 ** layout.bitsAllocated - 2 ** (layout.highBit + 1); // the bits above High Bit, set
  for (let i = 0; i < values.length; i++) {
    // Two's complement within Bits Stored, placed at High Bit (arithmetic, not bit operators, which are
    // 32-bit signed in JavaScript), then the bits above High Bit.
    let word = ((values[i] < 0 ? values[i] + range : values[i]) % range) * scale;
    if (layout.highBits === 'ones' || (layout.highBits === 'sign' && values[i] < 0)) word += above;
    if (width === 1) out[i] = word;
    else if (width === 2) view.setUint16(i * 2, word, true);
    else view.setUint32(i * 4, word, true);
  }
  return out;
}

/** One RLE Lossless fragment per frame (Annex G; samples interleaved in, one segment per sample byte out). */
export function rleFrames(pixels: PixelValues, layout: PixelLayout): Uint8Array[] {
  if (layout.float || layout.bitsAllocated === 1 || layout.subsampled422) throw new Error('RLE Lossless needs 8-, 16- or 32-bit integer samples at full resolution');
  const bytes = nativeBytes(pixels, { ...layout, planar: 0 });
  const width = layout.bitsAllocated / 8;
  const frameBytes = layout.rows * layout.columns * layout.samples * width;
  return Array.from({ length: layout.frames }, (_, f) => encodeRleFrame(bytes.subarray(f * frameBytes, (f + 1) * frameBytes), layout.rows, layout.columns, width, layout.samples));
}

/** The values in stored order: planar configuration and 4:2:2 subsampling applied per frame. */
function frameOrdered(pixels: PixelValues, layout: PixelLayout): ArrayLike<number> {
  if (layout.samples === 1 || (layout.planar === 0 && !layout.subsampled422)) return pixels;
  const perFrame = layout.rows * layout.columns * layout.samples;
  const pixelCount = layout.rows * layout.columns;
  const out: number[] = [];
  for (let f = 0; f < layout.frames; f++) {
    const base = f * perFrame;
    if (layout.subsampled422) {
      for (let r = 0; r < layout.rows; r++) {
        for (let c = 0; c < layout.columns; c += 2) {
          const p = base + (r * layout.columns + c) * 3;
          out.push(pixels[p], pixels[p + 3], pixels[p + 1], pixels[p + 2]);
        }
      }
    } else {
      for (let s = 0; s < layout.samples; s++) for (let p = 0; p < pixelCount; p++) out.push(pixels[base + p * layout.samples + s]);
    }
  }
  return out;
}

/** 1-bit samples, least significant bit first, frames continuing in the same bit stream (PS3.5 8.1.1). */
function packBits(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 8));
  for (let i = 0; i < values.length; i++) if (values[i] & 1) out[i >> 3] |= 1 << (i & 7);
  return out;
}
