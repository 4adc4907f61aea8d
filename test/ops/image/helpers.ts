import type { Image } from '../../../src/ops/image/image.ts';
import { seededRandom } from '../../../src/util/random.ts';

/** A tiny 8-bit grey image from rows of numbers. */
export function grey8(rows: number[][]): Image {
  return { data: Uint8Array.from(rows.flat()), width: rows[0].length, height: rows.length, channels: 1 };
}

export function grey16(rows: number[][]): Image {
  return { data: Uint16Array.from(rows.flat()), width: rows[0].length, height: rows.length, channels: 1 };
}

/** Rows of numbers of a grey image, for deepEqual. */
export function toRows(image: Image): number[][] {
  const out: number[][] = [];
  for (let y = 0; y < image.height; y++) out.push(Array.from(image.data.subarray(y * image.width, (y + 1) * image.width)));
  return out;
}

/** A smooth synthetic "radiograph": a bright ellipse with gradients and noise, 8 or 16 bits. */
export function synthetic(width: number, height: number, bits: 8 | 16, seed = 1): Image {
  const max = bits === 16 ? 65535 : 255;
  const random = seededRandom(seed);
  const data = bits === 16 ? new Uint16Array(width * height) : new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = (x - width / 2) / (width * 0.4), dy = (y - height / 2) / (height * 0.45);
      const body = Math.max(0, 1 - dx * dx - dy * dy);
      const v = 0.15 + 0.5 * body + 0.2 * Math.sin(x / 7) * Math.cos(y / 11) * body + 0.08 * (random() - 0.5);
      data[y * width + x] = Math.max(0, Math.min(max, Math.round(v * max * 0.9)));
    }
  }
  return { data, width, height, channels: 1 };
}
