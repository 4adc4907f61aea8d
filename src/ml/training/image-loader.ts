import type { Store } from '../../store/store.ts';
import { decodeImagePixels, type ImageTensorOptions } from '../image-tensor.ts';

/**
 * Decodes image blobs to float pixels, keeping decoded images in memory up to a byte budget so that
 * later epochs skip decoding (small datasets fit whole; large ones decode the rest per batch).
 */
export class ImageLoader {
  private readonly cache = new Map<string, Float32Array>();
  private readonly pending = new Map<string, Promise<Float32Array>>();
  private cachedBytes = 0;

  constructor(
    private readonly store: Store,
    readonly options: ImageTensorOptions,
    private readonly budgetBytes: number,
  ) {}

  get pixelsPerImage(): number {
    return this.options.size * this.options.size * this.options.channels;
  }

  async pixels(digest: string): Promise<Float32Array> {
    const hit = this.cache.get(digest);
    if (hit) return hit;
    let job = this.pending.get(digest);
    if (!job) {
      job = this.decode(digest);
      this.pending.set(digest, job);
    }
    return job;
  }

  private async decode(digest: string): Promise<Float32Array> {
    try {
      const pixels = await decodeImagePixels(await this.store.getBlob(digest), this.options);
      if (this.cachedBytes + pixels.byteLength <= this.budgetBytes) {
        this.cache.set(digest, pixels);
        this.cachedBytes += pixels.byteLength;
      }
      return pixels;
    } finally {
      this.pending.delete(digest);
    }
  }

  /** The images of one batch, concatenated (NHWC), decoded concurrently on sharp's thread pool. */
  async batch(digests: readonly string[]): Promise<Float32Array> {
    const per = this.pixelsPerImage;
    const out = new Float32Array(digests.length * per);
    await Promise.all(digests.map(async (d, i) => out.set(await this.pixels(d), i * per)));
    return out;
  }
}
