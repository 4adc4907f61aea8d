import { assertGrey, blankLike, type Image } from './image.ts';

/** Median filter over a size x size window (odd size), edges replicated as in OpenCV's medianBlur. */
export function medianBlur(image: Image, size: number): Image {
  assertGrey(image, 'median');
  if (!Number.isInteger(size) || size < 3 || size % 2 === 0) throw new Error(`median size must be an odd integer >= 3, got ${size}`);
  const { width, height, data } = image;
  const out = blankLike(image, width, height);
  const r = size >> 1;
  const n = size * size;
  const mid = n >> 1;
  const window = new Float64Array(n);
  const cols = new Int32Array(width * size);
  for (let x = 0; x < width; x++) {
    for (let dx = -r; dx <= r; dx++) cols[x * size + dx + r] = Math.min(width - 1, Math.max(0, x + dx));
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let k = 0;
      for (let dy = -r; dy <= r; dy++) {
        const rowStart = Math.min(height - 1, Math.max(0, y + dy)) * width;
        for (let j = 0; j < size; j++) window[k++] = data[rowStart + cols[x * size + j]];
      }
      out.data[y * width + x] = select(window, mid);
    }
  }
  return out;
}

/** The k-th smallest value (quickselect; reorders `values`). */
function select(values: Float64Array, k: number): number {
  let lo = 0, hi = values.length - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i]; values[i] = values[j]; values[j] = t;
        i++; j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k];
  }
  return values[k];
}
