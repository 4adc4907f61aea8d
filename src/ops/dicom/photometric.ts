import { frameValues, type DecodedFrame } from './decode/index.ts';

export function isMonochrome(photometric: string): boolean {
  return photometric === 'MONOCHROME1' || photometric === 'MONOCHROME2';
}

/**
 * One grey value per pixel. Monochrome frames pass through. RGB (also what the JPEG codecs return for
 * YBR_FULL_422 / YBR_ICT / YBR_RCT streams) becomes Rec. 601 luma; native YBR_FULL keeps its Y plane.
 */
export function greyValues(frame: DecodedFrame, photometric: string, decodedToRgb: boolean): Int32Array {
  if (frame.samples === 1) return frameValues(frame);
  if (frame.samples !== 3) throw new Error(`${frame.samples} samples per pixel are not supported (1 or 3 are)`);
  const pixels = frame.rows * frame.columns;
  const out = new Int32Array(pixels);
  const v = frameValues(frame);
  if (photometric === 'RGB' || decodedToRgb) {
    for (let p = 0; p < pixels; p++) out[p] = Math.round(0.299 * v[3 * p] + 0.587 * v[3 * p + 1] + 0.114 * v[3 * p + 2]);
  } else if (photometric === 'YBR_FULL') {
    for (let p = 0; p < pixels; p++) out[p] = v[3 * p];
  } else {
    throw new Error(`photometric interpretation ${photometric} is not supported for native pixel data`);
  }
  return out;
}
