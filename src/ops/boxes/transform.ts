import type { Box, GeometryStep, ImageGeometry } from '../../data-model.ts';
import type { Rect } from './iou.ts';

export type { GeometryStep, ImageGeometry } from '../../data-model.ts';

/** Clips a box to [x0, x1) x [y0, y1); undefined when nothing of it is left. */
export function clipBox(box: Box, x0: number, y0: number, x1: number, y1: number): Box | undefined {
  const x_min = Math.max(x0, box.x_min), y_min = Math.max(y0, box.y_min);
  const x_max = Math.min(x1, box.x_max), y_max = Math.min(y1, box.y_max);
  if (!(x_max > x_min && y_max > y_min)) return undefined;
  return { ...box, x_min, y_min, x_max, y_max };
}

export function cropBox(box: Box, step: Extract<GeometryStep, { op: 'crop' }>): Box | undefined {
  const moved = { ...box, x_min: box.x_min - step.x, x_max: box.x_max - step.x, y_min: box.y_min - step.y, y_max: box.y_max - step.y };
  return clipBox(moved, 0, 0, step.width, step.height);
}

export function scaleBox(box: Box, step: Extract<GeometryStep, { op: 'scale' }>): Box | undefined {
  const mapped = {
    ...box,
    x_min: box.x_min * step.sx + step.dx,
    x_max: box.x_max * step.sx + step.dx,
    y_min: box.y_min * step.sy + step.dy,
    y_max: box.y_max * step.sy + step.dy,
  };
  return clipBox(mapped, 0, 0, step.width, step.height);
}

/** Boxes after every step in order; boxes cropped away entirely are dropped. */
export function transformBoxes(boxes: readonly Box[], steps: readonly GeometryStep[]): Box[] {
  const out: Box[] = [];
  for (const original of boxes) {
    let box: Box | undefined = original;
    for (const step of steps) {
      box = step.op === 'crop' ? cropBox(box, step) : scaleBox(box, step);
      if (!box) break;
    }
    if (box) out.push(box);
  }
  return out;
}

/** A row's geometry after `steps` more: the original's size is kept; a row without one starts at `size` (its image is the original). */
export function appendGeometry(geometry: ImageGeometry | undefined, size: { width: number; height: number }, steps: readonly GeometryStep[]): ImageGeometry {
  const base = geometry ?? { width: size.width, height: size.height, steps: [] };
  return { width: base.width, height: base.height, steps: [...base.steps, ...steps] };
}

/** The image size after the steps (the original's without any). */
export function geometrySize(geometry: ImageGeometry): { width: number; height: number } {
  const last = geometry.steps[geometry.steps.length - 1];
  return last ? { width: last.width, height: last.height } : { width: geometry.width, height: geometry.height };
}

/**
 * A box in the pixels of the row's image back in the original image's pixels: the steps' inverses in
 * reverse order (a scale: (x - dx) / sx, clipped to the image it was applied to, so padding maps to
 * nothing; a crop: + its corner). Exact up to float rounding. Undefined when nothing of the box lies
 * on the original image (a box on padding only).
 */
export function toOriginal<T extends Rect>(box: T, geometry: ImageGeometry): T | undefined {
  let { x_min, y_min, x_max, y_max } = box;
  for (let i = geometry.steps.length - 1; i >= 0; i--) {
    const step = geometry.steps[i];
    if (step.op === 'crop') {
      x_min += step.x;
      x_max += step.x;
      y_min += step.y;
      y_max += step.y;
      continue;
    }
    const before = i > 0 ? geometry.steps[i - 1] : geometry;
    const x = (v: number) => Math.min(before.width, Math.max(0, (v - step.dx) / step.sx));
    const y = (v: number) => Math.min(before.height, Math.max(0, (v - step.dy) / step.sy));
    [x_min, x_max, y_min, y_max] = [x(x_min), x(x_max), y(y_min), y(y_max)];
  }
  if (!(x_max > x_min && y_max > y_min)) return undefined;
  return { ...box, x_min, y_min, x_max, y_max };
}

/** Boxes of the row's image in original pixels (identity without a geometry); boxes on padding only are dropped. */
export function boxesToOriginal<T extends Rect>(boxes: readonly T[], geometry: ImageGeometry | undefined): T[] {
  if (!geometry || geometry.steps.length === 0) return [...boxes];
  return boxes.flatMap((b) => {
    const o = toOriginal(b, geometry);
    return o ? [o] : [];
  });
}

/** Boxes of the original image in the row's image pixels (what convert and preprocess did to the truth). */
export function boxesFromOriginal(boxes: readonly Box[], geometry: ImageGeometry | undefined): Box[] {
  return geometry ? transformBoxes(boxes, geometry.steps) : [...boxes];
}
