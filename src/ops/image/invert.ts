import { blankLike, maxValue, type Image } from './image.ts';

/** Negative: every sample v becomes max - v (255 or 65535). */
export function invert(image: Image): Image {
  const out = blankLike(image, image.width, image.height);
  const max = maxValue(image);
  const src = image.data, dst = out.data;
  for (let i = 0; i < src.length; i++) dst[i] = max - src[i];
  return out;
}
