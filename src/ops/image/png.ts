import { loadSharp } from '../../util/sharp.ts';
import type { Image } from './image.ts';
import { decodePlainGreyPng } from './png-decode.ts';
import { typedView } from '../../util/typed-view.ts';

/**
 * Decodes a PNG (or any format sharp reads) into a grey image, keeping 8 or 16 bits. Colour images
 * whose channels are equal (grey saved as RGB) take the first channel; alpha is dropped. Plain grey
 * PNGs (the pipeline's own) are decoded in-process, in about 0.7x sharp's time; the rest by sharp.
 */
export async function decodeGrey(bytes: Uint8Array): Promise<Image> {
  return decodePlainGreyPng(bytes) ?? decodeGreyWithSharp(bytes);
}

/** decodeGrey through sharp (libvips), for every format and layout it reads. */
export async function decodeGreyWithSharp(bytes: Uint8Array): Promise<Image> {
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
