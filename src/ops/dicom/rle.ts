/**
 * RLE Lossless encoder (DICOM PS3.5 Annex G): one frame -> one fragment made of a 64-byte header
 * (segment count + up to 15 segment offsets) and one PackBits-coded segment per byte plane, most
 * significant byte plane first. Each row is coded on its own, as G.3.1 asks.
 */

/** PackBits-codes one row of bytes (G.3.1): literal runs `n` (0..127) = n+1 bytes, replicate runs `-n` = n+1 copies. */
export function packBitsRow(row: Uint8Array, out: number[]): void {
  let i = 0;
  const n = row.length;
  while (i < n) {
    let run = 1;
    while (i + run < n && run < 128 && row[i + run] === row[i]) run++;
    if (run >= 2) {
      out.push((257 - run) & 0xff, row[i]);
      i += run;
      continue;
    }
    // Literal run: extend until a repeat of >= 2 starts or 128 bytes.
    const start = i;
    i++;
    while (i < n && i - start < 128 && !(i + 1 < n && row[i] === row[i + 1])) i++;
    out.push(i - start - 1);
    for (let k = start; k < i; k++) out.push(row[k]);
  }
}

/**
 * Encodes one frame of `rows x columns` pixels of `samples` samples of `bytesPerSample` bytes (interleaved
 * little-endian input bytes, as stored in native pixel data) into an RLE Lossless fragment: one segment per
 * sample and byte, most significant byte first (Annex G.2).
 */
export function encodeRleFrame(pixelBytesLE: Uint8Array, rows: number, columns: number, bytesPerSample: number, samples = 1): Uint8Array {
  const segments: Uint8Array[] = [];
  const row = new Uint8Array(columns);
  const stride = bytesPerSample * samples;
  for (let s = 0; s < samples; s++) {
    for (let plane = bytesPerSample - 1; plane >= 0; plane--) {
      const out: number[] = [];
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < columns; c++) row[c] = pixelBytesLE[(r * columns + c) * stride + s * bytesPerSample + plane];
        packBitsRow(row, out);
      }
      if (out.length % 2) out.push(0);
      segments.push(Uint8Array.from(out));
    }
  }
  if (segments.length > 15) throw new Error(`RLE holds at most 15 segments, ${samples} samples of ${bytesPerSample} bytes need ${segments.length}`);
  const total = 64 + segments.reduce((sum, seg) => sum + seg.length, 0);
  const fragment = new Uint8Array(total);
  const header = new DataView(fragment.buffer);
  header.setUint32(0, segments.length, true);
  let offset = 64;
  segments.forEach((seg, i) => {
    header.setUint32(4 + 4 * i, offset, true);
    fragment.set(seg, offset);
    offset += seg.length;
  });
  return fragment;
}

/** Decodes one PackBits segment (used by tests to check the encoder; the convert stage has its own decoder). */
export function unpackBits(segment: Uint8Array, expected: number): Uint8Array {
  const out = new Uint8Array(expected);
  let o = 0;
  let i = 0;
  while (o < expected && i < segment.length) {
    const h = segment[i++];
    if (h < 128) {
      for (let k = 0; k <= h; k++) out[o++] = segment[i++];
    } else if (h > 128) {
      const v = segment[i++];
      for (let k = 0; k < 257 - h; k++) out[o++] = v;
    }
  }
  return out;
}
