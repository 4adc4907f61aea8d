import type { DecodedFrame } from './decode/index.ts';
import { lookupInto, mapInto, type Words } from './kernels.ts';
import { modalityTransform } from './modality-lut.ts';
import type { DicomHeader } from './parse.ts';
import { colourToGrey, isMonochrome } from './photometric.ts';
import { roundHalfEven } from './round.ts';
import { distribution, percentile, valueRange } from './value-stats.ts';
import { fileVoi, rangeTransform, voiFunction, windowTransform, windowOutputRange, type OutputRange, type VoiTransform } from './voi-lut.ts';

export { roundHalfEven };

/** How to choose the VOI (display) transform. */
export type WindowChoice =
  | 'auto'
  | 'file'
  | 'minmax'
  | { percentile: { low: number; high: number } }
  | { center: number; width: number; function?: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID' };

export interface RenderOptions {
  window: WindowChoice;
  bits: 8 | 16;
}

export interface RenderedFrame {
  width: number;
  height: number;
  bits: 8 | 16;
  pixels: Uint8Array | Uint16Array;
  /** Which transform was used, e.g. `window[0] LINEAR c=550 w=1024`, `minmax [0, 1023]`. */
  voi: string;
}

/**
 * Stored values -> display grey: Modality LUT / rescale, then the chosen VOI, scaled over the VOI's
 * output range to 0..2^bits-1 (numpy rounding: half to even), MONOCHROME1 inverted so dense tissue is bright.
 */
export function renderFrame(frame: DecodedFrame, h: DicomHeader, options: RenderOptions): RenderedFrame {
  let words: Words;
  let modality: (v: number) => number;
  let voi: VoiTransform;
  if (isMonochrome(h.photometric)) {
    // Work on the decoded words, folding the Bits Stored mask into the modality step.
    words = frame.words;
    const modalityOfStored = modalityTransform(h);
    modality = (w) => modalityOfStored(frame.stored(w));
    voi = chooseVoi(words, h, modality, options.window, frame.integer, windowOutputRange(h));
  } else {
    const grey = colourToGrey(frame, h, decodedToRgb(h, frame.samples));
    words = grey.values;
    modality = (v) => v;
    voi = options.window === 'auto' ? rangeTransform(0, grey.max, 'colour luma full range') : chooseVoi(words, h, modality, options.window, true, { min: 0, max: grey.max });
  }
  const maxOut = options.bits === 8 ? 255 : 65535;
  const invert = h.photometric === 'MONOCHROME1';
  const { min, max } = voi.range;
  const span = max - min;
  const toGrey = (v: number): number => {
    let t = ((voi.apply(modality(v)) - min) / span) * maxOut;
    t = t <= 0 ? 0 : t >= maxOut ? maxOut : roundHalfEven(t);
    return invert ? maxOut - t : t;
  };
  const pixels = options.bits === 8 ? new Uint8Array(words.length) : new Uint16Array(words.length);
  mapThroughTable(words, pixels, toGrey, frame.integer || !isMonochrome(h.photometric));
  return { width: frame.columns, height: frame.rows, bits: options.bits, pixels, voi: voi.describe };
}

/**
 * Whether the codec hands back RGB for a colour stream: OpenJPEG undoes the JPEG 2000 component transform
 * of YBR_ICT / YBR_RCT. The other decoders return the samples as stored (colour JPEG goes through our DCT
 * decoder, which does not convert YCbCr, as GDCM does not).
 */
function decodedToRgb(h: DicomHeader, samples: number): boolean {
  return samples === 3 && h.transferSyntax.codec === 'jpeg-2000' && (h.photometric === 'YBR_ICT' || h.photometric === 'YBR_RCT');
}

function chooseVoi(values: Words, h: DicomHeader, modality: (v: number) => number, choice: WindowChoice, integer: boolean, windowRange: OutputRange): VoiTransform {
  if (choice === 'auto' || choice === 'file') {
    const { voi, problem } = isMonochrome(h.photometric) ? fileVoi(h) : { voi: undefined, problem: `a ${h.photometric} image has no VOI of its own` };
    if (voi) return voi;
    if (choice === 'file') throw new Error(`window: file requested but ${problem}`);
    choice = 'minmax';
  }
  if (choice === 'minmax') {
    const d = distribution(values, modality, integer);
    return rangeTransform(d.values[0], d.values[d.values.length - 1], 'minmax');
  }
  if ('percentile' in choice) {
    const d = distribution(values, modality, integer);
    const { low, high } = choice.percentile;
    return rangeTransform(percentile(d, low), percentile(d, high), `percentile ${low}-${high}`);
  }
  return windowTransform({ center: choice.center, width: choice.width, fn: voiFunction(choice.function) }, windowRange, 'window (params)');
}

/** Applies `f` per pixel through a table over all 8/16-bit words, or the value span when it is small; per pixel otherwise. */
function mapThroughTable(values: Words, out: Uint8Array | Uint16Array, f: (v: number) => number, integer: boolean): void {
  if (values.length === 0) return;
  const { min, max } = values instanceof Uint8Array ? { min: 0, max: 255 } : values instanceof Uint16Array ? { min: 0, max: 65535 } : valueRange(values);
  if (!integer || max - min > 1 << 20) {
    mapInto(values, f, out);
    return;
  }
  const table = out instanceof Uint8Array ? new Uint8Array(max - min + 1) : new Uint16Array(max - min + 1);
  for (let v = min; v <= max; v++) table[v - min] = f(v);
  lookupInto(values, min, table, out);
}
