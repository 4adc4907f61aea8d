/** Corner coordinates (x_min, y_min, x_max, y_max) in a continuous frame: a box's area is (x_max − x_min)·(y_max − y_min). */
export interface Rect {
  x_min: number;
  y_min: number;
  x_max: number;
  y_max: number;
}

export function area(b: Rect): number {
  return Math.max(0, b.x_max - b.x_min) * Math.max(0, b.y_max - b.y_min);
}

/** Intersection over union of two boxes; 0 when either is empty and they do not overlap. */
export function iou(a: Rect, b: Rect): number {
  const w = Math.min(a.x_max, b.x_max) - Math.max(a.x_min, b.x_min);
  const h = Math.min(a.y_max, b.y_max) - Math.max(a.y_min, b.y_min);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (area(a) + area(b) - inter);
}
