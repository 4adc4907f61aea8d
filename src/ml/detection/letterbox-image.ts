import sharp from 'sharp';
import type { Store } from '../../store/store.ts';
import { letterbox, type Letterbox } from '../../ops/boxes/letterbox.ts';
import type { Raster } from '../../ops/augment/box-augment.ts';
import { decodeResizedPixels } from '../image-tensor.ts';

export interface LetterboxedImage {
  raster: Raster;
  geometry: Letterbox;
}

/** Padding value of letterboxed images (black, as the background of radiographs). */
export const LETTERBOX_FILL = 0;

/**
 * Decodes an image blob into a `size` x `height` float raster (values in [0, 1]; square by default):
 * resized with its aspect kept to the letterbox's whole-pixel size (sharp, as the classification loader)
 * and centred on padding.
 */
export async function decodeLetterboxed(bytes: Uint8Array, size: number, channels: 1 | 3, height = size): Promise<LetterboxedImage> {
  const meta = await sharp(bytes).metadata();
  if (!meta.width || !meta.height) throw new Error('image without dimensions');
  const geometry = letterbox(meta.width, meta.height, size, height);
  const scaled = await decodeResizedPixels(bytes, geometry.scaledWidth, geometry.scaledHeight, channels);
  const data = new Float32Array(size * height * channels).fill(LETTERBOX_FILL);
  const rowLength = geometry.scaledWidth * channels;
  for (let y = 0; y < geometry.scaledHeight; y++) data.set(scaled.subarray(y * rowLength, (y + 1) * rowLength), ((y + geometry.dy) * size + geometry.dx) * channels);
  return { raster: { data, width: size, height, channels }, geometry };
}

/** Letterboxed images of blobs, kept in memory up to a byte budget (as the classification ImageLoader). */
export class LetterboxLoader {
  private readonly cache = new Map<string, Promise<LetterboxedImage>>();
  private cachedBytes = 0;

  constructor(
    private readonly store: Store,
    readonly size: number,
    readonly channels: 1 | 3,
    private readonly budgetBytes: number,
    readonly height = size,
  ) {}

  image(digest: string): Promise<LetterboxedImage> {
    const hit = this.cache.get(digest);
    if (hit) return hit;
    const job = this.store.getBlob(digest).then((bytes) => decodeLetterboxed(bytes, this.size, this.channels, this.height));
    const bytes = this.size * this.height * this.channels * 4;
    if (this.cachedBytes + bytes <= this.budgetBytes) {
      this.cache.set(digest, job);
      this.cachedBytes += bytes;
      job.catch(() => this.cache.delete(digest));
    }
    return job;
  }
}
