/** A raster image held as a typed array, row-major, channels interleaved. Grey images have `channels: 1`. */
export interface Image {
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  channels: number;
}

/** An axis-aligned pixel rectangle: `x`, `y` of the top-left pixel, `width` x `height` pixels. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The largest value a pixel of this image can hold (255 or 65535). */
export function maxValue(image: Image): number {
  return image.data instanceof Uint16Array ? 65535 : 255;
}

/** A new zero-filled image with the same sample type and channels as `like`. */
export function blankLike(like: Image, width: number, height: number, channels = like.channels): Image {
  const size = width * height * channels;
  const data = like.data instanceof Uint16Array ? new Uint16Array(size) : new Uint8Array(size);
  return { data, width, height, channels };
}

export function assertGrey(image: Image, op: string): void {
  if (image.channels !== 1) throw new Error(`${op} needs a grey image (1 channel), got ${image.channels} channels`);
}

/** Round half to even, as C's lrint (OpenCV's cvRound) does under the default rounding mode. */
export function roundEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/** Round to the nearest integer and clamp to the image's sample range, as OpenCV's saturate_cast does. */
export function saturate(value: number, max: number): number {
  const r = Math.round(value);
  return r < 0 ? 0 : r > max ? max : r;
}
