/**
 * RLE Lossless (PS3.5 Annex G): a 64-byte header of 16 little-endian uint32 (segment count, then up to 15
 * segment offsets); each segment is PackBits-encoded and holds one byte plane, most significant byte
 * first for each sample. Returns interleaved little-endian samples.
 */
export function decodeRleFrame(frame: Uint8Array, rows: number, columns: number, samplesPerPixel: number, bitsAllocated: number): Uint8Array {
  if (frame.length < 64) throw new Error(`RLE frame is ${frame.length} bytes, shorter than its 64-byte header`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  const bytesPerSample = bitsAllocated / 8;
  const expected = samplesPerPixel * bytesPerSample;
  if (segments !== expected) throw new Error(`RLE header has ${segments} segments, expected ${expected} (${samplesPerPixel} sample(s) x ${bytesPerSample} byte(s))`);
  const pixels = rows * columns;
  const bytesPerPixel = expected;
  const out = new Uint8Array(pixels * bytesPerPixel);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || start > frame.length || end > frame.length || end < start) throw new Error(`RLE segment ${s} offsets ${start}..${end} are outside the ${frame.length}-byte frame`);
    const sample = Math.floor(s / bytesPerSample);
    const byteOfSample = bytesPerSample - 1 - (s % bytesPerSample);
    unpackBits(frame, start, end, out, sample * bytesPerSample + byteOfSample, bytesPerPixel, pixels, s);
  }
  return out;
}

/** PackBits into every `stride`-th byte of `out` from `offset`. */
function unpackBits(src: Uint8Array, start: number, end: number, out: Uint8Array, offset: number, stride: number, count: number, segment: number): void {
  let i = start;
  let n = 0;
  while (i < end && n < count) {
    const header = src[i++];
    if (header < 128) {
      const len = header + 1;
      if (i + len > end) throw new Error(`RLE segment ${segment}: literal run past the end of the segment`);
      for (let k = 0; k < len && n < count; k++) out[offset + stride * n++] = src[i + k];
      i += len;
    } else if (header > 128) {
      const len = 257 - header;
      const value = src[i++];
      for (let k = 0; k < len && n < count; k++) out[offset + stride * n++] = value;
    }
  }
  if (n < count) throw new Error(`RLE segment ${segment} decoded ${n} of ${count} bytes`);
}
