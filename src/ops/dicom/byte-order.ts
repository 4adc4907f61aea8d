/** Reverses the bytes of each `width`-byte value (little <-> big endian). */
export function swapBytes(bytes: Uint8Array, width: number): Uint8Array {
  if (width <= 1) return bytes;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + width <= bytes.length; i += width) for (let b = 0; b < width; b++) out[i + b] = bytes[i + width - 1 - b];
  return out;
}
