import type { Box } from '../../data-model.ts';
import { composite, mapRect, type Placement, type Raster } from '../../ops/augment/box-augment.ts';
import type { TtaTransform } from '../tta-transform-schema.ts';
import { LETTERBOX_FILL } from './letterbox-image.ts';

/** The affine map of a TTA transform on a `size` x `height` image (square by default): x' = x * sx + tx (flips about the centre, scales about the centre, shifts by whole pixels). */
export function ttaMap(t: TtaTransform, size: number, height = size): Pick<Placement, 'sx' | 'sy' | 'tx' | 'ty'> {
  if (t === 'identity') return { sx: 1, sy: 1, tx: 0, ty: 0 };
  if (t === 'hflip') return { sx: -1, sy: 1, tx: size, ty: 0 };
  if (t === 'vflip') return { sx: 1, sy: -1, tx: 0, ty: height };
  if ('shift' in t) return { sx: 1, sy: 1, tx: Math.round(t.shift.x * size), ty: Math.round(t.shift.y * height) };
  return { sx: t.scale, sy: t.scale, tx: (size / 2) * (1 - t.scale), ty: (height / 2) * (1 - t.scale) };
}

/** The image under a TTA transform (bilinear; uncovered pixels get the letterbox fill). */
export function transformRaster(image: Raster, t: TtaTransform): Raster {
  if (t === 'identity') return image;
  return composite(image.width, image.height, image.channels, [{ image, boxes: [], ...ttaMap(t, image.width, image.height) }], { fill: LETTERBOX_FILL }).image;
}

/** Boxes predicted on the transformed image, back in the untransformed image's pixels (the exact inverse map). */
export function invertTtaBoxes(boxes: readonly Box[], t: TtaTransform, size: number, height = size): Box[] {
  const m = ttaMap(t, size, height);
  const inverse = { sx: 1 / m.sx, sy: 1 / m.sy, tx: -m.tx / m.sx, ty: -m.ty / m.sy };
  return boxes.map((b) => ({ ...b, ...mapRect(b, inverse) }));
}
