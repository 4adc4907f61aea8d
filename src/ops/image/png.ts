import { loadSharp } from '../../util/sharp.ts';
import type { Image } from './image.ts';
import { typedView } from '../../util/typed-view.ts';

/**
 * Decodes a PNG (or any format sharp reads) into a grey image, keeping 8 or 16 bits. Colour images
 * whose channels are equal (grey saved as RGB) take the first channel; alpha is dropped.
 */
export async function decodeGrey(bytes: Uint8Array): Promise<Image> {
  const sharp = await loadSharp();
  const meta = await sharp(bytes).metadata();
  const is16 = meta.depth === 'ushort' || meta.depth === 'short';
  let pipeline = sharp(bytes);
  if (is16) pipeline = pipeline.toColourspace('grey16');
  else pipeline = ((meta.channels ?? 1) > 1 ? pipeline.extractChannel(0) : pipeline).toColourspace('b-w');
  const { data, info } = await pipeline.raw(is16 ? { depth: 'ushort' } : {}).toBuffer({ resolveWithObject: true });
  if (is16) {
    const all = typedView(data, Uint16Array);
    return { data: info.channels === 1 ? all.slice() : firstChannel(all, info.channels), width: info.width, height: info.height, channels: 1 };
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 1 };
}

function firstChannel(all: Uint16Array, channels: number): Uint16Array {
  const out = new Uint16Array(all.length / channels);
  for (let i = 0; i < out.length; i++) out[i] = all[i * channels];
  return out;
}

/**
 * Encodes a grey image as an 8- or 16-bit grey PNG. `adaptiveFiltering` (libpng's per-row filter choice,
 * as OpenCV and most tools use) gives about a third smaller files than no filtering, at about twice the
 * encode time (bench/results/preprocess.md).
 */
export async function encodeGreyPng(image: Image, compressionLevel = 6, adaptiveFiltering = false): Promise<Buffer> {
  const sharp = await loadSharp();
  const is16 = image.data instanceof Uint16Array;
  return sharp(rawSamples(image), { raw: { width: image.width, height: image.height, channels: 1 } })
    .toColourspace(is16 ? 'grey16' : 'b-w')
    .png({ compressionLevel, adaptiveFiltering })
    .toBuffer();
}

/**
 * The samples as sharp raw input: sharp takes the sample depth from the typed array's type and reads
 * its whole ArrayBuffer, so views are copied to an array of their own.
 */
export function rawSamples(image: Image): Uint8Array | Uint16Array {
  const d = image.data;
  return d.byteOffset === 0 && d.byteLength === d.buffer.byteLength ? d : d.slice();
}
