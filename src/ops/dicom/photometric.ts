import { frameValues, type DecodedFrame } from './decode/index.ts';
import type { DicomHeader, PaletteLuts } from './parse.ts';
import { roundHalfEven } from './round.ts';

export function isMonochrome(photometric: string): boolean {
  return photometric === 'MONOCHROME1' || photometric === 'MONOCHROME2';
}

/** Grey values of a colour frame and the range they span (what `window: auto` maps to black..white). */
export interface GreyFrame {
  values: Int32Array | Float64Array;
  max: number;
}

/** Rec. 601 luma 0.299 R + 0.587 G + 0.114 B, rounded half to even (as numpy's `round` of the same sum). */
export function luma(r: number, g: number, b: number): number {
  return roundHalfEven(0.299 * r + 0.587 * g + 0.114 * b);
}

/**
 * One grey value per pixel of a colour frame. RGB becomes Rec. 601 luma; YBR_FULL / YBR_FULL_422 samples
 * (as stored, or as a JPEG decoder returns them without colour conversion) keep their Y, which is that luma;
 * `decodedToRgb` says the codec already converted YCbCr to RGB. PALETTE COLOR indices go through the
 * palette, then luma. Other colour models are errors.
 */
export function colourToGrey(frame: DecodedFrame, h: Pick<DicomHeader, 'photometric' | 'bitsStored' | 'palette'>, decodedToRgb: boolean): GreyFrame {
  const pixels = frame.rows * frame.columns;
  const v = frameValues(frame);
  const max = 2 ** h.bitsStored - 1;
  if (h.photometric === 'PALETTE COLOR') {
    if (frame.samples !== 1 || !h.palette) throw new Error('PALETTE COLOR needs one sample per pixel and Palette Color LUTs');
    return paletteGrey(v, h.palette);
  }
  if (frame.samples !== 3) throw new Error(`${frame.samples} samples per pixel (${h.photometric}) are not supported (1 or 3 are)`);
  const out = v instanceof Float64Array ? new Float64Array(pixels) : new Int32Array(pixels);
  if (h.photometric === 'RGB' || decodedToRgb) {
    for (let p = 0; p < pixels; p++) out[p] = luma(v[3 * p], v[3 * p + 1], v[3 * p + 2]);
  } else if (h.photometric === 'YBR_FULL' || h.photometric === 'YBR_FULL_422') {
    for (let p = 0; p < pixels; p++) out[p] = v[3 * p];
  } else {
    throw new Error(`photometric interpretation ${h.photometric} is not supported for this transfer syntax`);
  }
  return { values: out, max };
}

/** Palette indices -> luma of the palette's RGB (PS3.3 C.7.6.3.1.5; clamping as pydicom's apply_color_lut). */
function paletteGrey(indices: Int32Array | Float64Array, p: PaletteLuts): GreyFrame {
  const last = Math.min(p.entries, p.red.length, p.green.length, p.blue.length) - 1;
  const out = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    let k = indices[i] - p.firstMapped;
    k = k < 0 ? 0 : k > last ? last : k;
    out[i] = luma(p.red[k], p.green[k], p.blue[k]);
  }
  return { values: out, max: 2 ** p.bits - 1 };
}
