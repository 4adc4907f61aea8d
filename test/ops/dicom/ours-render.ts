import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { convertDicom } from '../../../src/ops/dicom/convert.ts';

/** Our converter's output for one file, every frame as 8- and 16-bit grey pixels, or its error. */
export type Outcome = { ours: Array<{ png8: Uint8Array; png16: Uint16Array }> } | { error: string };

/** A grey PNG's pixels (16-bit ones read as grey16: plain `.raw()` would convert them to 8-bit sRGB). */
export async function pngPixels(png: Buffer, bits: 8 | 16): Promise<Uint8Array | Uint16Array> {
  const image = bits === 16 ? sharp(png).toColourspace('grey16').raw({ depth: 'ushort' }) : sharp(png).toColourspace('b-w').raw();
  const { data, info } = await image.toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 1);
  return bits === 8 ? new Uint8Array(data) : new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

/** Converts `path` end to end (window auto, all frames) at 8 and 16 bits. */
export async function renderOurs(path: string): Promise<Outcome> {
  try {
    const bytes = await readFile(path);
    const eight = await convertDicom(bytes, { window: 'auto', bits: 8, frames: 'all' });
    const sixteen = await convertDicom(bytes, { window: 'auto', bits: 16, frames: 'all' });
    const frames = [];
    for (let f = 0; f < eight.images.length; f++) {
      frames.push({ png8: (await pngPixels(eight.images[f].png, 8)) as Uint8Array, png16: (await pngPixels(sixteen.images[f].png, 16)) as Uint16Array });
    }
    return { ours: frames };
  } catch (err) {
    return { error: (err as Error).message };
  }
}
