import { assertGrey, type Image, type Rect } from './image.ts';

export interface AutoCropOptions {
  /** A line is part of the border when its max - min is at most this many grey levels. */
  tolerance: number;
}

/**
 * The content rectangle inside uniform borders. From the centre row (column), scan outward; the first
 * uniform line met ends the content on that side. Scanning from the centre, not from the edges, keeps
 * scanner labels or specks in the border from stopping the scan early. Columns are judged only over the
 * content rows, then rows again over the content columns, so a speck in a border corner is ignored.
 */
export function findContentRect(image: Image, options: AutoCropOptions): Rect {
  assertGrey(image, 'autocrop');
  const { width, height, data } = image;
  const uniform = (start: number, step: number, count: number) => {
    let lo = Infinity, hi = -Infinity;
    for (let k = 0, i = start; k < count; k++, i += step) {
      const v = data[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return hi - lo <= options.tolerance;
  };
  let cols: [number, number] = [0, width];
  let rows: [number, number] = [0, height];
  const scanRows = () => (rows = extent(height, (y) => uniform(y * width + cols[0], 1, cols[1] - cols[0])));
  const scanCols = () => (cols = extent(width, (x) => uniform(rows[0] * width + x, width, rows[1] - rows[0])));
  scanRows();
  scanCols();
  scanRows();
  return { x: cols[0], y: rows[0], width: cols[1] - cols[0], height: rows[1] - rows[0] };
}

/** [start, end) of the non-uniform run around the centre line; the whole range when the centre is uniform. */
function extent(size: number, isUniform: (i: number) => boolean): [number, number] {
  const centre = size >> 1;
  if (isUniform(centre)) return [0, size];
  let start = centre, end = centre + 1;
  while (start > 0 && !isUniform(start - 1)) start--;
  while (end < size && !isUniform(end)) end++;
  return [start, end];
}
