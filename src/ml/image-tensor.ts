import sharp from 'sharp';
import * as tf from './tf.ts';
import type { Store } from '../store/store.ts';

export interface ImageTensorOptions {
  /** Output is size x size (aspect not kept: images are assumed already cropped/resized upstream). */
  size: number;
  /** 1 (grey) or 3 (grey replicated / RGB). */
  channels: 1 | 3;
}

/**
 * Decodes a PNG/JPEG (8- or 16-bit, grey or RGB) to `size*size*channels` floats in [0, 1], row-major HWC.
 * 16-bit images keep their precision.
 */
export async function decodeImagePixels(bytes: Uint8Array, { size, channels }: ImageTensorOptions): Promise<Float32Array> {
  return decodeResizedPixels(bytes, size, size, channels);
}

/** As decodeImagePixels, resized to `width` x `height` (aspect not kept). */
export async function decodeResizedPixels(bytes: Uint8Array, width: number, height: number, channels: 1 | 3): Promise<Float32Array> {
  const meta = await sharp(bytes).metadata();
  const sixteen = meta.depth === 'ushort';
  let pipeline = sharp(bytes).removeAlpha().resize(width, height, { fit: 'fill' });
  pipeline = channels === 1 ? pipeline.toColourspace(sixteen ? 'grey16' : 'b-w') : pipeline.toColourspace(sixteen ? 'rgb16' : 'srgb');
  const { data, info } = await pipeline.raw(sixteen ? { depth: 'ushort' } : {}).toBuffer({ resolveWithObject: true });
  if (info.channels !== channels) throw new Error(`decoded ${info.channels} channels, expected ${channels}`);
  const n = width * height * channels;
  const out = new Float32Array(n);
  if (sixteen) {
    const src = new Uint16Array(data.buffer, data.byteOffset, n);
    for (let i = 0; i < n; i++) out[i] = src[i] / 65535;
  } else {
    for (let i = 0; i < n; i++) out[i] = data[i] / 255;
  }
  return out;
}

/** One image blob as a `[size, size, channels]` float tensor in [0, 1]. */
export async function loadImageTensor(store: Store, digest: string, options: ImageTensorOptions): Promise<tf.Tensor3D> {
  const pixels = await decodeImagePixels(await store.getBlob(digest), options);
  return tf.tensor3d(pixels, [options.size, options.size, options.channels]);
}

/** Several image blobs as one `[n, size, size, channels]` batch tensor; decodes concurrently. */
export async function loadImageBatch(store: Store, digests: readonly string[], options: ImageTensorOptions): Promise<tf.Tensor4D> {
  const per = options.size * options.size * options.channels;
  const all = new Float32Array(digests.length * per);
  await Promise.all(digests.map(async (digest, i) => all.set(await decodeImagePixels(await store.getBlob(digest), options), i * per)));
  return tf.tensor4d(all, [digests.length, options.size, options.size, options.channels]);
}
