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
