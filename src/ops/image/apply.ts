import type { GeometryStep } from '../boxes/transform.ts';
import { findContentRect } from './autocrop.ts';
import { clahe } from './clahe.ts';
import { cropByRates, cropRect, type CropRates } from './crop.ts';
import type { Image, Rect } from './image.ts';
import { invert } from './invert.ts';
import { findMarkers, maskRects, type AutoMaskOptions } from './mask.ts';
import { medianBlur } from './median.ts';
import { resizeLanczos4 } from './resize-lanczos.ts';
import { pad, resizeArea, resizeBilinear, resizeGeometry, type ResizeFit } from './resize.ts';

export type Interpolation = 'area' | 'bilinear' | 'lanczos';

/** One preprocessing op, as written in a stage's `ops:` list (exactly one key per entry). */
export interface OpSpec {
  crop?: CropRates;
  autocrop?: { tolerance: number };
  mask?: { regions: Rect[]; auto?: AutoMaskOptions; margin: number };
  clahe?: { clip: number; tiles: number | [number, number] };
  invert?: boolean;
  resize?: { width: number; height: number; fit: ResizeFit; interpolation: Interpolation; pad_value: number };
  median?: { size: number };
}

export interface OpsResult {
  image: Image;
  /** Geometric steps in order, for transforming boxes. */
  steps: GeometryStep[];
  /** Rectangles the mask ops filled, in the coordinates of the image at that op. */
  masked: Rect[];
}

/** Applies `ops` in order. Fractional mask regions are relative to the image at the mask op. */
export async function applyOps(input: Image, ops: readonly OpSpec[]): Promise<OpsResult> {
  let image = input;
  const steps: GeometryStep[] = [];
  const masked: Rect[] = [];
  for (const op of ops) {
    if (op.crop) {
      const cropped = cropByRates(image, op.crop);
      steps.push({ op: 'crop', ...cropped.rect });
      image = cropped.image;
    } else if (op.autocrop) {
      const rect = findContentRect(image, op.autocrop);
      if (rect.width !== image.width || rect.height !== image.height) {
        steps.push({ op: 'crop', ...rect });
        image = cropRect(image, rect);
      }
    } else if (op.mask) {
      const rects = op.mask.regions.map((r) => fractionRect(r, image));
      if (op.mask.auto) rects.push(...findMarkers(image, op.mask.auto));
      masked.push(...rects);
      if (rects.length) image = maskRects(image, rects, op.mask.margin);
    } else if (op.clahe) {
      const [tilesX, tilesY] = typeof op.clahe.tiles === 'number' ? [op.clahe.tiles, op.clahe.tiles] : op.clahe.tiles;
      image = clahe(image, { clip: op.clahe.clip, tilesX, tilesY });
    } else if (op.invert) {
      image = invert(image);
    } else if (op.resize) {
      const r = op.resize;
      const g = resizeGeometry(image.width, image.height, r.width, r.height, r.fit);
      steps.push({ op: 'scale', sx: g.scaledWidth / image.width, sy: g.scaledHeight / image.height, dx: g.left, dy: g.top, width: g.width, height: g.height });
      image = resample(image, g.scaledWidth, g.scaledHeight, r.interpolation);
      if (g.scaledWidth !== g.width || g.scaledHeight !== g.height) image = pad(image, g.width, g.height, g.left, g.top, r.pad_value);
    } else if (op.median) {
      image = medianBlur(image, op.median.size);
    }
  }
  return { image, steps, masked };
}

function resample(image: Image, width: number, height: number, how: Interpolation): Image {
  if (width === image.width && height === image.height) return image;
  if (how === 'lanczos') return resizeLanczos4(image, width, height);
  return how === 'area' ? resizeArea(image, width, height) : resizeBilinear(image, width, height);
}

function fractionRect(r: Rect, image: Image): Rect {
  const x = Math.round(r.x * image.width), y = Math.round(r.y * image.height);
  return { x, y, width: Math.round((r.x + r.width) * image.width) - x, height: Math.round((r.y + r.height) * image.height) - y };
}
