import type { Rect } from '../../ops/boxes/iou.ts';
import type { PyramidLevel } from './detector.ts';

/** The anchor points of all levels, in the order of the model's `detections` output (level, row, column). */
export interface AnchorPoints {
  count: number;
  cx: Float32Array;
  cy: Float32Array;
  stride: Float32Array;
  /** Range of max(l, t, r, b) a level is responsible for: (lo, hi]. */
  lo: Float32Array;
  hi: Float32Array;
  level: Uint8Array;
}

export interface TargetBox extends Rect {
  /** Class index. */
  cls: number;
}

/** Per anchor point: the assigned box x_min, y_min, x_max, y_max, positive flag, centerness target, one-hot class. */
export const TARGET_BOX = 0;
export const TARGET_POSITIVE = 4;
export const TARGET_CENTERNESS = 5;
export const TARGET_CLASS_OFFSET = 6;
export const targetChannels = (classes: number) => TARGET_CLASS_OFFSET + classes;

/**
 * Anchor points at the centres of each level's grid cells ((j + .5) * stride, (i + .5) * stride), with
 * size ranges in strides: level of stride s takes boxes whose largest distance from the point is in
 * (range * s / 2, range * s]; the finest starts at 0, the coarsest has no upper bound. FCOS's ranges
 * (64, 128, ...) are range 8 for 800-pixel inputs; the default 4 gives boxes up to ~64 px to stride 8,
 * ~128 px to stride 16 (YOLOv5's anchor sizes per level are in the same proportion).
 */
export function anchorPoints(levels: readonly PyramidLevel[], range = 4): AnchorPoints {
  const count = levels.reduce((s, l) => s + l.height * l.width, 0);
  const p: AnchorPoints = { count, cx: new Float32Array(count), cy: new Float32Array(count), stride: new Float32Array(count), lo: new Float32Array(count), hi: new Float32Array(count), level: new Uint8Array(count) };
  let a = 0;
  levels.forEach((l, k) => {
    const lo = k === 0 ? 0 : (range / 2) * l.stride;
    const hi = k === levels.length - 1 ? Infinity : range * l.stride;
    for (let i = 0; i < l.height; i++) {
      for (let j = 0; j < l.width; j++, a++) {
        p.cx[a] = (j + 0.5) * l.stride;
        p.cy[a] = (i + 0.5) * l.stride;
        p.stride[a] = l.stride;
        p.lo[a] = lo;
        p.hi[a] = hi;
        p.level[a] = k;
      }
    }
  });
  return p;
}

export interface AssignOptions {
  /** Centre sampling radius in strides (FCOS: 1.5). */
  radius: number;
}

/**
 * FCOS label assignment with centre sampling, a rule of the ground truth alone (no predictions), so
 * targets are built here per batch and the loss stays dense. A point is positive for a box when
 *   1. it lies strictly inside the box,
 *   2. it lies within `radius` strides of the box centre on both axes (centre sampling), and
 *   3. its largest distance to the box sides, max(l, t, r, b), is in its level's range;
 * among several such boxes the smallest (by area) wins. A box that gets no point this way (smaller
 * than a stride, or between points) takes the unassigned point nearest to its centre on the finest
 * level, so that every box is learned. Centerness target: sqrt(min(l,r)/max(l,r) * min(t,b)/max(t,b)).
 * Writes `targetChannels(classes)` values per point.
 */
export function assignTargets(points: AnchorPoints, boxes: readonly TargetBox[], classes: number, options: AssignOptions, out = new Float32Array(points.count * targetChannels(classes))): Float32Array {
  const k = targetChannels(classes);
  out.fill(0);
  const owner = new Int32Array(points.count).fill(-1);
  const ownerArea = new Float64Array(points.count).fill(Infinity);
  boxes.forEach((box, bi) => {
    const area = (box.x_max - box.x_min) * (box.y_max - box.y_min);
    if (!(area > 0)) return;
    const gcx = (box.x_min + box.x_max) / 2, gcy = (box.y_min + box.y_max) / 2;
    let claimed = false;
    for (let a = 0; a < points.count; a++) {
      const x = points.cx[a], y = points.cy[a];
      const l = x - box.x_min, t = y - box.y_min, r = box.x_max - x, b = box.y_max - y;
      if (l <= 0 || t <= 0 || r <= 0 || b <= 0) continue;
      const reach = points.stride[a] * options.radius;
      if (Math.abs(x - gcx) >= reach || Math.abs(y - gcy) >= reach) continue;
      const m = Math.max(l, t, r, b);
      if (m <= points.lo[a] || m > points.hi[a]) continue;
      claimed = true;
      if (area < ownerArea[a]) {
        ownerArea[a] = area;
        owner[a] = bi;
      }
    }
    if (claimed) return;
    let nearest = -1;
    let best = Infinity;
    for (let a = 0; a < points.count && points.level[a] === 0; a++) {
      if (owner[a] >= 0) continue;
      const d = (points.cx[a] - gcx) ** 2 + (points.cy[a] - gcy) ** 2;
      if (d < best) {
        best = d;
        nearest = a;
      }
    }
    if (nearest >= 0) {
      owner[nearest] = bi;
      ownerArea[nearest] = area;
    }
  });
  for (let a = 0; a < points.count; a++) {
    const bi = owner[a];
    if (bi < 0) continue;
    const box = boxes[bi];
    const o = a * k;
    out[o + TARGET_BOX] = box.x_min;
    out[o + TARGET_BOX + 1] = box.y_min;
    out[o + TARGET_BOX + 2] = box.x_max;
    out[o + TARGET_BOX + 3] = box.y_max;
    out[o + TARGET_POSITIVE] = 1;
    out[o + TARGET_CENTERNESS] = centerness(points.cx[a], points.cy[a], box);
    out[o + TARGET_CLASS_OFFSET + box.cls] = 1;
  }
  return out;
}

/** FCOS centerness of a point for a box; a point outside (the nearest-point fallback) gets a small positive value. */
export function centerness(x: number, y: number, box: Rect): number {
  const l = Math.max(x - box.x_min, 1e-3), r = Math.max(box.x_max - x, 1e-3);
  const t = Math.max(y - box.y_min, 1e-3), b = Math.max(box.y_max - y, 1e-3);
  return Math.sqrt((Math.min(l, r) / Math.max(l, r)) * (Math.min(t, b) / Math.max(t, b)));
}
