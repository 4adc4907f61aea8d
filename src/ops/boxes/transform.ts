import type { Box } from '../../data-model.ts';

/**
 * One geometric step applied to an image, as boxes see it: a crop keeps `rect` and moves its corner to
 * the origin; a scale maps x to x * sx + dx (and y likewise) into a `width` x `height` image (`dx`,
 * `dy` are the padding on the left and top).
 */
export type GeometryStep =
  | { op: 'crop'; x: number; y: number; width: number; height: number }
  | { op: 'scale'; sx: number; sy: number; dx: number; dy: number; width: number; height: number };

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
