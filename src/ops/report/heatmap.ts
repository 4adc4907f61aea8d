/** The classic "jet" colormap: value in [0, 1] → [r, g, b] in 0..255 (blue, cyan, yellow, red). */
export function jet(value: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, value));
  const channel = (offset: number) => Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - offset))));
  return [channel(3), channel(2), channel(1)];
}

/** Bilinear resize of a single-channel map (align-corners sampling: corner pixels map to corners). */
export function resizeMap(map: Float32Array, height: number, width: number, outHeight: number, outWidth: number): Float32Array {
  const out = new Float32Array(outHeight * outWidth);
  for (let y = 0; y < outHeight; y++) {
    const fy = outHeight > 1 ? (y * (height - 1)) / (outHeight - 1) : 0;
    const y0 = Math.floor(fy);
    const y1 = Math.min(height - 1, y0 + 1);
    const ty = fy - y0;
    for (let x = 0; x < outWidth; x++) {
      const fx = outWidth > 1 ? (x * (width - 1)) / (outWidth - 1) : 0;
      const x0 = Math.floor(fx);
      const x1 = Math.min(width - 1, x0 + 1);
      const tx = fx - x0;
      const top = map[y0 * width + x0] * (1 - tx) + map[y0 * width + x1] * tx;
      const bottom = map[y1 * width + x0] * (1 - tx) + map[y1 * width + x1] * tx;
      out[y * outWidth + x] = top * (1 - ty) + bottom * ty;
    }
  }
  return out;
}

/**
 * Overlays a heat map on a grey image: RGB = (1 − alpha·h) · grey + alpha·h · jet(h), so cold regions
 * show the original pixels unchanged (the stored image, not a de-normalised tensor).
 */
export function overlayHeatmap(grey: Uint8Array, heat: Float32Array, alpha: number): Uint8Array {
  if (grey.length !== heat.length) throw new Error(`overlay: ${grey.length} pixels but a ${heat.length}-pixel heat map`);
  const out = new Uint8Array(grey.length * 3);
  for (let i = 0; i < grey.length; i++) {
    const h = Math.min(1, Math.max(0, heat[i]));
    const a = alpha * h;
    const [r, g, b] = jet(h);
    out[3 * i] = Math.round((1 - a) * grey[i] + a * r);
    out[3 * i + 1] = Math.round((1 - a) * grey[i] + a * g);
    out[3 * i + 2] = Math.round((1 - a) * grey[i] + a * b);
  }
  return out;
}

/** Row-major index of the maximum. */
export function argmaxPixel(map: ArrayLike<number>, width: number): { x: number; y: number } {
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i] > map[best]) best = i;
  return { x: best % width, y: Math.floor(best / width) };
}
