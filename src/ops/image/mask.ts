import { assertGrey, maxValue, type Image, type Rect } from './image.ts';

/** Clamp a rectangle to the image; undefined when nothing is left. */
export function clampRect(rect: Rect, width: number, height: number): Rect | undefined {
  const x0 = Math.max(0, rect.x), y0 = Math.max(0, rect.y);
  const x1 = Math.min(width, rect.x + rect.width), y1 = Math.min(height, rect.y + rect.height);
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : undefined;
}

/** Mean of the pixels in a `margin`-wide ring around `rect` (inside the image), rounded. */
export function ringMean(image: Image, rect: Rect, margin: number): number {
  const outer = clampRect({ x: rect.x - margin, y: rect.y - margin, width: rect.width + 2 * margin, height: rect.height + 2 * margin }, image.width, image.height)!;
  let sum = 0, count = 0;
  for (let y = outer.y; y < outer.y + outer.height; y++) {
    for (let x = outer.x; x < outer.x + outer.width; x++) {
      const inside = x >= rect.x && x < rect.x + rect.width && y >= rect.y && y < rect.y + rect.height;
      if (!inside) { sum += image.data[y * image.width + x]; count++; }
    }
  }
  return count === 0 ? 0 : Math.round(sum / count);
}

/** Fills each rectangle with the mean of a `margin`-pixel ring around it (computed before any fill). */
export function maskRects(image: Image, rects: readonly Rect[], margin: number): Image {
  assertGrey(image, 'mask');
  const clamped = rects.map((r) => clampRect(r, image.width, image.height)).filter((r): r is Rect => !!r);
  const means = clamped.map((r) => ringMean(image, r, margin));
  const out: Image = { ...image, data: image.data.slice() };
  clamped.forEach((r, i) => {
    for (let y = r.y; y < r.y + r.height; y++) out.data.fill(means[i], y * image.width + r.x, y * image.width + r.x + r.width);
  });
  return out;
}

export interface AutoMaskOptions {
  /** A pixel is saturated at or above this fraction of the maximum grey value. */
  threshold: number;
  /** Components larger than this fraction of the image area are anatomy, not markers. */
  maxArea: number;
  /** Only components whose bounding box lies within this fraction of the width/height of an edge. */
  border: number;
  /** Pixels added around each component's bounding box before filling. */
  dilate: number;
}

/** Bounding boxes of small saturated 8-connected components near the image borders (burned-in text, markers). */
export function findMarkers(image: Image, options: AutoMaskOptions): Rect[] {
  assertGrey(image, 'mask');
  const { width, height, data } = image;
  const level = options.threshold * maxValue(image);
  const maxPixels = options.maxArea * width * height;
  const bx = options.border * width, by = options.border * height;
  const seen = new Uint8Array(width * height);
  const stack: number[] = [];
  const found: Rect[] = [];
  for (let start = 0; start < data.length; start++) {
    if (seen[start] || data[start] < level) continue;
    seen[start] = 1;
    stack.push(start);
    let count = 0, x0 = width, y0 = height, x1 = -1, y1 = -1;
    while (stack.length) {
      const p = stack.pop()!;
      const px = p % width, py = (p - px) / width;
      count++;
      if (px < x0) x0 = px;
      if (px > x1) x1 = px;
      if (py < y0) y0 = py;
      if (py > y1) y1 = py;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = py + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = px + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (!seen[q] && data[q] >= level) { seen[q] = 1; stack.push(q); }
        }
      }
    }
    const nearEdge = x1 < bx || x0 >= width - bx || y1 < by || y0 >= height - by;
    if (count <= maxPixels && nearEdge) {
      const d = options.dilate;
      found.push({ x: x0 - d, y: y0 - d, width: x1 - x0 + 1 + 2 * d, height: y1 - y0 + 1 + 2 * d });
    }
  }
  return found;
}
