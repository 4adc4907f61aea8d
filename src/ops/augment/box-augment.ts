import type { Box } from '../../data-model.ts';
import { clipBox } from '../boxes/transform.ts';

/** An HWC float image. */
export interface Raster {
  data: Float32Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * One source image drawn onto the canvas by x' = x * sx + tx, y' = y * sy + ty (a negative factor
 * flips), visible only inside `clip` (default: the whole canvas). Its boxes move by the same map.
 */
export interface Placement {
  image: Raster;
  boxes: readonly Box[];
  sx: number;
  sy: number;
  tx: number;
  ty: number;
  clip?: { x0: number; y0: number; x1: number; y1: number };
}

export interface CompositeOptions {
  /** Value of canvas pixels no source covers (default 0). */
  fill?: number;
  /** `bilinear` (default) or `nearest` (the source pixel under the output pixel's centre). */
  sampling?: 'bilinear' | 'nearest';
  /** A moved box keeps only its visible part; it is dropped when less than this fraction of it is visible (default .25) or when a side is under 1 pixel. */
  minVisible?: number;
}

/**
 * Draws the placements onto a `width` x `height` canvas. Output pixel (u, v) shows the source point under
 * its centre, ((u + .5 - tx) / sx, (v + .5 - ty) / sy), when that point is inside the source image: so the
 * pixels whose centres lie in a moved box are exactly the pixels showing the source box's pixels
 * (exact with `nearest`; bilinear blends neighbours at the edges).
 */
export function composite(width: number, height: number, channels: number, placements: readonly Placement[], options: CompositeOptions = {}): { image: Raster; boxes: Box[] } {
  const { fill = 0, sampling = 'bilinear', minVisible = 0.25 } = options;
  const data = new Float32Array(width * height * channels).fill(fill);
  const boxes: Box[] = [];
  for (const p of placements) {
    const src = p.image;
    if (src.channels !== channels) throw new Error(`composite: a ${src.channels}-channel image on a ${channels}-channel canvas`);
    const clip = { x0: Math.max(0, p.clip?.x0 ?? 0), y0: Math.max(0, p.clip?.y0 ?? 0), x1: Math.min(width, p.clip?.x1 ?? width), y1: Math.min(height, p.clip?.y1 ?? height) };
    const footprint = mapRect({ x_min: 0, y_min: 0, x_max: src.width, y_max: src.height }, p);
    const u0 = Math.max(Math.floor(clip.x0), Math.floor(footprint.x_min)), u1 = Math.min(Math.ceil(clip.x1), Math.ceil(footprint.x_max));
    const v0 = Math.max(Math.floor(clip.y0), Math.floor(footprint.y_min)), v1 = Math.min(Math.ceil(clip.y1), Math.ceil(footprint.y_max));
    for (let v = v0; v < v1; v++) {
      const cy = v + 0.5;
      if (cy < clip.y0 || cy >= clip.y1) continue;
      const y = (cy - p.ty) / p.sy;
      if (!(y >= 0 && y < src.height)) continue;
      for (let u = u0; u < u1; u++) {
        const cx = u + 0.5;
        if (cx < clip.x0 || cx >= clip.x1) continue;
        const x = (cx - p.tx) / p.sx;
        if (!(x >= 0 && x < src.width)) continue;
        const o = (v * width + u) * channels;
        if (sampling === 'nearest') {
          const i = (Math.floor(y) * src.width + Math.floor(x)) * channels;
          for (let c = 0; c < channels; c++) data[o + c] = src.data[i + c];
        } else sampleBilinear(src, x - 0.5, y - 0.5, data, o);
      }
    }
    for (const b of p.boxes) {
      const moved = mapRect(b, p);
      const visible = clipBox({ ...b, ...moved }, clip.x0, clip.y0, clip.x1, clip.y1);
      if (!visible) continue;
      const full = (moved.x_max - moved.x_min) * (moved.y_max - moved.y_min);
      const seen = (visible.x_max - visible.x_min) * (visible.y_max - visible.y_min);
      if (seen < minVisible * full || visible.x_max - visible.x_min < 1 || visible.y_max - visible.y_min < 1) continue;
      boxes.push(visible);
    }
  }
  return { image: { data, width, height, channels }, boxes };
}

/** A rectangle under a placement's map (corners re-ordered when a factor is negative). */
export function mapRect(r: { x_min: number; y_min: number; x_max: number; y_max: number }, p: Pick<Placement, 'sx' | 'sy' | 'tx' | 'ty'>) {
  const xa = r.x_min * p.sx + p.tx, xb = r.x_max * p.sx + p.tx;
  const ya = r.y_min * p.sy + p.ty, yb = r.y_max * p.sy + p.ty;
  return { x_min: Math.min(xa, xb), x_max: Math.max(xa, xb), y_min: Math.min(ya, yb), y_max: Math.max(ya, yb) };
}

/** Bilinear sample at pixel-index coordinates (x, y) (pixel centres at integers), edges clamped. */
function sampleBilinear(src: Raster, x: number, y: number, out: Float32Array, o: number): void {
  const { width: w, height: h, channels: c, data } = src;
  const xc = Math.min(Math.max(x, 0), w - 1), yc = Math.min(Math.max(y, 0), h - 1);
  const x0 = Math.floor(xc), y0 = Math.floor(yc);
  const x1 = Math.min(x0 + 1, w - 1), y1 = Math.min(y0 + 1, h - 1);
  const fx = xc - x0, fy = yc - y0;
  for (let k = 0; k < c; k++) {
    const a = data[(y0 * w + x0) * c + k], b = data[(y0 * w + x1) * c + k];
    const d = data[(y1 * w + x0) * c + k], e = data[(y1 * w + x1) * c + k];
    out[o + k] = (a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy;
  }
}

export interface BoxAugmentRanges {
  /** Probability of a left-right flip (default .5). */
  hflip: number;
  /** Probability of an up-down flip (default 0). */
  vflip: number;
  /** Scale factor drawn from [1 - scale, 1 + scale] (default .25). */
  scale: number;
  /** Translation drawn from +-translate x the image size per axis (default .1). */
  translate: number;
  /** Probability that a training image is a mosaic of four (default .5). */
  mosaic: number;
}

/** A random flip / scale / translate of one image, about its centre. */
export function randomPlacement(image: Raster, boxes: readonly Box[], r: BoxAugmentRanges, random: () => number): Placement {
  const s = 1 + (2 * random() - 1) * r.scale;
  const fx = random() < r.hflip ? -1 : 1;
  const fy = random() < r.vflip ? -1 : 1;
  const shiftX = (2 * random() - 1) * r.translate * image.width;
  const shiftY = (2 * random() - 1) * r.translate * image.height;
  const sx = s * fx, sy = s * fy;
  // the image centre maps to the canvas centre plus the shift
  return { image, boxes, sx, sy, tx: image.width / 2 + shiftX - (image.width / 2) * sx, ty: image.height / 2 + shiftY - (image.height / 2) * sy };
}

/**
 * Mosaic (YOLOv4/v5): four `size` x `height` images at half scale around a random centre in the middle
 * half of the canvas, one per quadrant, each cut at the quadrant's edges.
 */
export function mosaicPlacements(images: readonly { image: Raster; boxes: readonly Box[] }[], size: number, random: () => number, height = size): Placement[] {
  if (images.length !== 4) throw new Error(`mosaic needs 4 images, got ${images.length}`);
  const cx = Math.round(size * (0.25 + 0.5 * random()));
  const cy = Math.round(height * (0.25 + 0.5 * random()));
  const half = 0.5;
  return images.map(({ image, boxes }, k) => {
    const right = k % 2 === 1, bottom = k >= 2;
    const w = image.width * half, h = image.height * half;
    return {
      image,
      boxes,
      sx: half,
      sy: half,
      tx: right ? cx : cx - w,
      ty: bottom ? cy : cy - h,
      clip: { x0: right ? cx : 0, y0: bottom ? cy : 0, x1: right ? size : cx, y1: bottom ? height : cy },
    };
  });
}
