import sharp from 'sharp';
import { assertGrey, type Image } from './image.ts';
import { rawSamples } from './png.ts';

/** Lanczos-3 resampling through libvips (sharp). Async: it runs on libvips' thread pool. */
export async function resizeLanczos(image: Image, width: number, height: number): Promise<Image> {
  assertGrey(image, 'lanczos resize');
  const is16 = image.data instanceof Uint16Array;
  const input = sharp(rawSamples(image), { raw: { width: image.width, height: image.height, channels: 1 } });
  const { data, info } = await input
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .toColourspace(is16 ? 'grey16' : 'b-w')
    .raw(is16 ? { depth: 'ushort' } : {})
    .toBuffer({ resolveWithObject: true });
  const samples = is16 ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2).slice() : new Uint8Array(data);
  return { data: samples, width: info.width, height: info.height, channels: 1 };
}
