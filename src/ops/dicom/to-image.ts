import { loadSharp } from '../../util/sharp.ts';

/** Output size keeping aspect so that the longest side is `size` (undefined keeps the original). */
export function fitLongestSide(width: number, height: number, size?: number): { width: number; height: number } {
  if (!size || Math.max(width, height) === size) return { width, height };
  const scale = size / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Encodes a grey frame as an 8- or 16-bit PNG with sharp, resized so the longest side is `size` when given. */
export async function greyPng(pixels: Uint8Array | Uint16Array, width: number, height: number, bits: 8 | 16, size?: number): Promise<{ png: Buffer; width: number; height: number }> {
  const sharp = await loadSharp();
  const target = fitLongestSide(width, height, size);
  // sharp takes the sample depth of raw input from the typed array's type (Uint16Array -> ushort).
  const input = bits === 16 ? (pixels instanceof Uint16Array ? pixels : Uint16Array.from(pixels)) : pixels instanceof Uint8Array ? pixels : Uint8Array.from(pixels);
  let image = sharp(input, { raw: { width, height, channels: 1 } });
  if (target.width !== width || target.height !== height) image = image.resize(target.width, target.height, { fit: 'fill' });
  image = bits === 16 ? image.toColourspace('grey16') : image.toColourspace('b-w');
  const png = await image.png({ compressionLevel: 6 }).toBuffer();
  return { png, ...target };
}
