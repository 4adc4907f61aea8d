import type { DctComponent } from './jpeg-dct.ts';

/**
 * A component plane at full image size, upsampled as IJG libjpeg (and so GDCM) does by default: "fancy"
 * triangular filtering for 2:1 horizontal (h2v1) and 2:1 both ways (h2v2) (jdsample.c), sample repetition
 * for other ratios. Full-size planes are returned as they are.
 */
export function upsample(c: DctComponent, width: number, height: number): Uint16Array {
  if (c.width === width && c.height === height) return c.samples;
  const xRatio = Math.round(width / c.width);
  const yRatio = Math.round(height / c.height);
  if (xRatio === 2 && yRatio === 1 && c.width >= 2) return h2v1(c, width, height);
  if (xRatio === 2 && yRatio === 2 && c.width >= 2) return h2v2(c, width, height);
  const out = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = Math.min(c.height - 1, Math.floor((y * c.height) / height)) * c.width;
    for (let x = 0; x < width; x++) out[y * width + x] = c.samples[row + Math.min(c.width - 1, Math.floor((x * c.width) / width))];
  }
  return out;
}

/** One row of h2v1 fancy upsampling: 3/4 nearer + 1/4 further sample, rounding alternately down and up. */
function h2v1Row(input: Uint16Array, at: number, n: number, out: Uint16Array, outAt: number, outWidth: number): void {
  const put = (i: number, v: number) => {
    if (i < outWidth) out[outAt + i] = v;
  };
  put(0, input[at]);
  put(1, (input[at] * 3 + input[at + 1] + 2) >> 2);
  for (let i = 1; i < n - 1; i++) {
    const v = input[at + i] * 3;
    put(2 * i, (v + input[at + i - 1] + 1) >> 2);
    put(2 * i + 1, (v + input[at + i + 1] + 2) >> 2);
  }
  put(2 * n - 2, (input[at + n - 1] * 3 + input[at + n - 2] + 1) >> 2);
  put(2 * n - 1, input[at + n - 1]);
}

function h2v1(c: DctComponent, width: number, height: number): Uint16Array {
  const out = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) h2v1Row(c.samples, Math.min(c.height - 1, y) * c.width, c.width, out, y * width, width);
  return out;
}

/** h2v2 fancy upsampling: each output row blends its own input row (3/4) with the nearer neighbouring row (1/4), then columns likewise. */
function h2v2(c: DctComponent, width: number, height: number): Uint16Array {
  const out = new Uint16Array(width * height);
  const n = c.width;
  const s = c.samples;
  const rowAt = (r: number) => Math.max(0, Math.min(c.height - 1, r)) * n;
  for (let y = 0; y < height; y++) {
    const inRow = y >> 1;
    const near = rowAt(inRow);
    const far = rowAt((y & 1) === 0 ? inRow - 1 : inRow + 1);
    const sum = (i: number) => s[near + i] * 3 + s[far + i];
    const o = y * width;
    const put = (i: number, v: number) => {
      if (i < width) out[o + i] = v;
    };
    let thisSum = sum(0);
    let nextSum = sum(1);
    put(0, (thisSum * 4 + 8) >> 4);
    put(1, (thisSum * 3 + nextSum + 7) >> 4);
    let lastSum = thisSum;
    thisSum = nextSum;
    for (let i = 2; i < n; i++) {
      nextSum = sum(i);
      put(2 * i - 2, (thisSum * 3 + lastSum + 8) >> 4);
      put(2 * i - 1, (thisSum * 3 + nextSum + 7) >> 4);
      lastSum = thisSum;
      thisSum = nextSum;
    }
    put(2 * n - 2, (thisSum * 3 + lastSum + 8) >> 4);
    put(2 * n - 1, (thisSum * 4 + 7) >> 4);
  }
  return out;
}
