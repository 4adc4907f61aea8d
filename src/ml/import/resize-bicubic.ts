/**
 * PyTorch's `F.interpolate(x, size, mode='bicubic', align_corners=..., antialias=...)` on a
 * channels-last grid [h, w, c] (every channel resized alike), in plain TS. Separable: the width first,
 * then the height, as PyTorch does.
 *
 * - default (upsample_bicubic2d): Keys' cubic with A = -0.75 at source x = (i + .5) * in/out - .5, four
 *   taps with indices clamped to the border.
 * - `alignCorners` (torchvision's `interpolate_embeddings`): the same taps at source x = i * (in - 1) / (out - 1),
 *   so the corner samples map onto each other (x = 0 when out is 1).
 * - `antialias` (PyTorch's PIL-style kernel, timm's default in `resample_abs_pos_embed`): A = -0.5,
 *   the kernel stretched by in/out when downsampling, taps outside the grid dropped and the weights
 *   renormalised to sum 1.
 */
export function resizeBicubic(src: Float32Array, h: number, w: number, c: number, outH: number, outW: number, mode: BicubicMode = {}): Float32Array {
  if (src.length !== h * w * c) throw new Error(`resizeBicubic: ${src.length} values are not a ${h}x${w} grid of ${c} channels`);
  if (mode.antialias && mode.alignCorners) throw new Error('resizeBicubic: antialias with alignCorners is not implemented (neither timm nor torchvision resample that way)');
  const wide = resizeAxis(src, h, w, c, outW, mode);
  return resizeAxis(wide, 1, h, outW * c, outH, mode);
}

export interface BicubicMode {
  antialias?: boolean;
  alignCorners?: boolean;
}

/** Resizes the middle axis of [outer, n, inner] to `m`. */
function resizeAxis(src: Float32Array, outer: number, n: number, inner: number, m: number, mode: BicubicMode): Float32Array {
  const taps = mode.antialias ? antialiasTaps(n, m) : clampedTaps(n, m, mode.alignCorners ?? false);
  const out = new Float32Array(outer * m * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < m; i++) {
      const { index, weight } = taps[i];
      const to = (o * m + i) * inner;
      for (let k = 0; k < index.length; k++) {
        const from = (o * n + index[k]) * inner;
        const wk = weight[k];
        for (let x = 0; x < inner; x++) out[to + x] += wk * src[from + x];
      }
    }
  }
  return out;
}

interface Taps {
  index: number[];
  weight: number[];
}

function cubic(x: number, a: number): number {
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

function clampedTaps(n: number, m: number, alignCorners: boolean): Taps[] {
  const scale = alignCorners ? (m > 1 ? (n - 1) / (m - 1) : 0) : n / m;
  return Array.from({ length: m }, (_, i) => {
    const real = alignCorners ? scale * i : scale * (i + 0.5) - 0.5;
    const start = Math.floor(real);
    const t = real - start;
    const index = [-1, 0, 1, 2].map((d) => Math.min(Math.max(start + d, 0), n - 1));
    return { index, weight: [cubic(t + 1, -0.75), cubic(t, -0.75), cubic(1 - t, -0.75), cubic(2 - t, -0.75)] };
  });
}

function antialiasTaps(n: number, m: number): Taps[] {
  const scale = n / m;
  const stretch = Math.max(scale, 1);
  const support = 2 * stretch;
  return Array.from({ length: m }, (_, i) => {
    const center = scale * (i + 0.5);
    // C++ truncation toward zero, as PyTorch's static_cast<int64_t>
    const first = Math.max(Math.trunc(center - support + 0.5), 0);
    const end = Math.min(Math.trunc(center + support + 0.5), n);
    const index: number[] = [];
    const weight: number[] = [];
    for (let j = first; j < end; j++) {
      index.push(j);
      weight.push(cubic((j - center + 0.5) / stretch, -0.5));
    }
    const total = weight.reduce((s, v) => s + v, 0);
    return { index, weight: total === 0 ? weight : weight.map((v) => v / total) };
  });
}
