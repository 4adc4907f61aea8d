/** The sample precision and process (SOF marker) of a JPEG stream, read from its frame header. */
export function jpegFrameHeader(frame: Uint8Array): { marker: number; precision: number } | undefined {
  let i = 2;
  while (i + 4 < frame.length) {
    if (frame[i] !== 0xff) {
      i++;
      continue;
    }
    const marker = frame[i + 1];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { marker, precision: frame[i + 4] };
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0xff) {
      i += marker === 0xff ? 1 : 2;
      continue;
    }
    i += 2 + ((frame[i + 2] << 8) | frame[i + 3]);
  }
  return undefined;
}

/** Position of the first marker at or after `from` that is not a stuffed 0xFF00, a fill byte or RSTn (the end of entropy-coded data). */
export function nextMarker(data: Uint8Array, from: number): number {
  for (let p = Math.max(0, from); p + 1 < data.length; p++) {
    if (data[p] !== 0xff) continue;
    const m = data[p + 1];
    if (m !== 0x00 && m !== 0xff && !(m >= 0xd0 && m <= 0xd7)) return p;
  }
  return data.length;
}

/** One marker segment of a JPEG stream: its marker and the bytes after the length field. */
export interface JpegSegment {
  marker: number;
  segment: Uint8Array;
  /** Position just after the segment (where a scan's entropy-coded data starts). */
  end: number;
}

/**
 * Walks the marker segments of a JPEG stream after SOI, up to EOI. Fill bytes (0xFF), stray bytes between
 * segments and RSTn markers are skipped, as libjpeg does; `seek` moves on after a scan's entropy-coded data.
 */
export class JpegSegments {
  private pos = 2;
  constructor(private readonly data: Uint8Array) {
    if (data[0] !== 0xff || data[1] !== 0xd8) throw new Error('not a JPEG stream (no SOI marker)');
  }

  next(): JpegSegment | undefined {
    const data = this.data;
    while (this.pos + 1 < data.length) {
      if (data[this.pos] !== 0xff) {
        this.pos++;
        continue;
      }
      const marker = data[this.pos + 1];
      if (marker === 0xff) {
        this.pos++;
        continue;
      }
      this.pos += 2;
      if (marker === 0x00 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue;
      if (marker === 0xd9) return undefined;
      const length = (data[this.pos] << 8) | data[this.pos + 1];
      const segment = data.subarray(this.pos + 2, this.pos + length);
      this.pos += length;
      return { marker, segment, end: this.pos };
    }
    return undefined;
  }

  seek(position: number): void {
    this.pos = position;
  }
}

/** The SOF markers of processes no decoder here handles, with the name of what they are. */
export function unsupportedProcess(marker: number): string | undefined {
  if (marker === 0xc2 || marker === 0xc6 || marker === 0xca || marker === 0xce) return 'progressive';
  if (marker === 0xc5 || marker === 0xc7 || marker === 0xcd || marker === 0xcf) return 'hierarchical';
  if (marker === 0xc9 || marker === 0xcb) return 'arithmetic coding';
  return undefined;
}
