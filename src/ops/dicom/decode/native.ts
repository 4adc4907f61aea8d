import type { DicomHeader } from '../parse.ts';

/** Native YBR_FULL_422 stores two luminance samples and one Cb, Cr pair per two pixels (PS3.3 C.7.6.3.1.2). */
export function isSubsampled422(h: Pick<DicomHeader, 'photometric' | 'samplesPerPixel'>): boolean {
  return h.photometric === 'YBR_FULL_422' && h.samplesPerPixel === 3;
}

/** Samples one native frame holds. */
export function nativeFrameSamples(h: DicomHeader): number {
  const pixels = h.rows * h.columns;
  return isSubsampled422(h) ? pixels * 2 : pixels * h.samplesPerPixel;
}

/** Bytes one frame of native (uncompressed) pixel data occupies. */
export function nativeFrameBytes(h: DicomHeader): number {
  return Math.ceil((nativeFrameSamples(h) * h.bitsAllocated) / 8);
}

/**
 * One frame of native pixel data as little-endian samples (as stored: planar or 4:2:2 layouts are
 * undone by the caller): big-endian words are swapped, 1-bit data is unpacked to one byte per pixel.
 */
export function decodeNativeFrame(bytes: Uint8Array, h: DicomHeader, frame: number, littleEndian: boolean): Uint8Array {
  if (h.bitsAllocated === 1) return unpackBits(bytes, h, frame);
  const size = nativeFrameBytes(h);
  const start = frame * size;
  if (start + size > bytes.length) {
    throw new Error(`truncated pixel data: frame ${frame} needs bytes ${start}..${start + size}, the element has ${bytes.length}`);
  }
  const view = bytes.subarray(start, start + size);
  const width = h.bitsAllocated / 8;
  if (littleEndian || width === 1) return view;
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += width) for (let b = 0; b < width; b++) out[i + b] = view[i + width - 1 - b];
  return out;
}

function unpackBits(bytes: Uint8Array, h: DicomHeader, frame: number): Uint8Array {
  const count = h.rows * h.columns * h.samplesPerPixel;
  const firstBit = frame * count;
  if (Math.ceil((firstBit + count) / 8) > bytes.length) throw new Error(`truncated pixel data: frame ${frame} of 1-bit data runs past ${bytes.length} bytes`);
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const bit = firstBit + i;
    out[i] = (bytes[bit >> 3] >> (bit & 7)) & 1;
  }
  return out;
}
