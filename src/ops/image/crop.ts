import { blankLike, type Image, type Rect } from './image.ts';

/** Fractions of the width (left, right) and height (top, bottom) to cut off each side. */
export interface CropRates {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** The rectangle that remains after cutting `rates` off each side (pixel counts rounded to nearest). */
export function rectFromRates(width: number, height: number, rates: CropRates): Rect {
  const x0 = Math.round(rates.left * width);
  const x1 = width - Math.round(rates.right * width);
  const y0 = Math.round(rates.top * height);
  const y1 = height - Math.round(rates.bottom * height);
  if (x1 <= x0 || y1 <= y0) throw new Error(`crop rates ${JSON.stringify(rates)} leave nothing of a ${width}x${height} image`);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** The pixels of `rect` as a new image. */
export function cropRect(image: Image, rect: Rect): Image {
  const { x, y, width, height } = rect;
  if (x < 0 || y < 0 || x + width > image.width || y + height > image.height || width <= 0 || height <= 0) {
    throw new Error(`crop rectangle ${JSON.stringify(rect)} is outside the ${image.width}x${image.height} image`);
  }
  const out = blankLike(image, width, height);
  const c = image.channels;
  for (let row = 0; row < height; row++) {
    const start = ((y + row) * image.width + x) * c;
    out.data.set(image.data.subarray(start, start + width * c), row * width * c);
  }
  return out;
}

export function cropByRates(image: Image, rates: CropRates): { image: Image; rect: Rect } {
  const rect = rectFromRates(image.width, image.height, rates);
  return { image: cropRect(image, rect), rect };
}
