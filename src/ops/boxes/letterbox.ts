import type { Rect } from './iou.ts';

/**
 * Letterbox geometry: an image of `width` x `height` pixels resized, aspect kept, into a `size` x
 * `sizeHeight` canvas (square by default) and centred on padding. Pixel i of the source spans [i, i+1) (continuous edges); the resized
 * image is `scaledWidth` x `scaledHeight` whole pixels, so each axis has its own exact factor
 * (scaledWidth / width) and every source pixel edge lands where the resampler puts it. A point maps as
 * x' = x * sx + dx, y' = y * sy + dy; `fromLetterbox` is the exact inverse.
 */
export interface Letterbox {
  /** Canvas width and height. */
  size: number;
  sizeHeight: number;
  width: number;
  height: number;
  scaledWidth: number;
  scaledHeight: number;
  sx: number;
  sy: number;
  /** Padding on the left and top (whole pixels). */
  dx: number;
  dy: number;
}

export function letterbox(width: number, height: number, size: number, sizeHeight = size): Letterbox {
  if (!(width > 0 && height > 0 && size > 0 && sizeHeight > 0)) throw new Error(`letterbox: bad sizes ${width}x${height} -> ${size}x${sizeHeight}`);
  const scale = Math.min(size / width, sizeHeight / height);
  const scaledWidth = Math.max(1, Math.min(size, Math.round(width * scale)));
  const scaledHeight = Math.max(1, Math.min(sizeHeight, Math.round(height * scale)));
  return {
    size,
    sizeHeight,
    width,
    height,
    scaledWidth,
    scaledHeight,
    sx: scaledWidth / width,
    sy: scaledHeight / height,
    dx: Math.floor((size - scaledWidth) / 2),
    dy: Math.floor((sizeHeight - scaledHeight) / 2),
  };
}

/** A box of the source image in letterboxed pixel coordinates. */
export function toLetterbox<T extends Rect>(box: T, g: Letterbox): T {
  return { ...box, x_min: box.x_min * g.sx + g.dx, x_max: box.x_max * g.sx + g.dx, y_min: box.y_min * g.sy + g.dy, y_max: box.y_max * g.sy + g.dy };
}

/** A box in letterboxed coordinates back in source pixels, clipped to the source image. */
export function fromLetterbox<T extends Rect>(box: T, g: Letterbox): T {
  const x = (v: number) => Math.min(g.width, Math.max(0, (v - g.dx) / g.sx));
  const y = (v: number) => Math.min(g.height, Math.max(0, (v - g.dy) / g.sy));
  return { ...box, x_min: x(box.x_min), x_max: x(box.x_max), y_min: y(box.y_min), y_max: y(box.y_max) };
}
