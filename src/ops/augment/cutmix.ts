import { sampleBeta } from './distributions.ts';

export interface CutmixBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Weight of the original image's labels: 1 - box area / image area (after clipping to the image). */
  lambda: number;
}

/** CutMix (Yun et al. 2019): lambda ~ Beta(beta, beta), a box of area (1 - lambda) at a uniform centre, clipped. */
export function sampleCutmixBox(beta: number, width: number, height: number, random: () => number): CutmixBox {
  const lambda = sampleBeta(beta, beta, random);
  const ratio = Math.sqrt(1 - lambda);
  const cw = Math.floor(width * ratio), ch = Math.floor(height * ratio);
  const cx = Math.floor(random() * width), cy = Math.floor(random() * height);
  const x0 = clamp(cx - Math.floor(cw / 2), width), x1 = clamp(cx + Math.floor(cw / 2), width);
  const y0 = clamp(cy - Math.floor(ch / 2), height), y1 = clamp(cy + Math.floor(ch / 2), height);
  return { x0, y0, x1, y1, lambda: 1 - ((x1 - x0) * (y1 - y0)) / (width * height) };
}

const clamp = (v: number, max: number) => Math.min(Math.max(v, 0), max);
