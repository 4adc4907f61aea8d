import type { DecodedFrame } from './decode/index.ts';
import { lookupInto, type Words } from './kernels.ts';
import { modalityTransform } from './modality-lut.ts';
import type { DicomHeader } from './parse.ts';
import { greyValues, isMonochrome } from './photometric.ts';
import { distribution, percentile, valueRange } from './value-stats.ts';
import { fileVoi, rangeTransform, voiFunction, windowTransform, windowOutputRange, type VoiTransform } from './voi-lut.ts';

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
  const colour = !isMonochrome(h.photometric);
  const decodedToRgb = h.transferSyntax.encapsulated && ['jpeg-baseline', 'jpeg-extended', 'jpeg-2000'].includes(h.transferSyntax.codec);
  // Monochrome: work on the decoded words, folding the Bits Stored mask into the modality step.
  const words = colour ? greyValues(frame, h.photometric, decodedToRgb) : frame.words;
  const modalityOfStored = modalityTransform(h);
  const modality = colour ? (v: number) => v : (w: number) => modalityOfStored(frame.stored(w));
  const voi = colour && options.window === 'auto' ? rangeTransform(0, 2 ** h.bitsStored - 1, 'colour luma full range') : chooseVoi(words, h, modality, options.window);
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
  mapThroughTable(words, pixels, toGrey);
  return { width: frame.columns, height: frame.rows, bits: options.bits, pixels, voi: voi.describe };
}

/** numpy's `round` (half to even), which the pydicom references use. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function chooseVoi(stored: Words, h: DicomHeader, modality: (v: number) => number, choice: WindowChoice): VoiTransform {
  if (choice === 'auto' || choice === 'file') {
    const { voi, problem } = fileVoi(h);
    if (voi) return voi;
    if (choice === 'file') throw new Error(`window: file requested but ${problem}`);
    choice = 'minmax';
  }
  if (choice === 'minmax') {
    const d = distribution(stored, modality);
    return rangeTransform(d.values[0], d.values[d.values.length - 1], 'minmax');
  }
  if ('percentile' in choice) {
    const d = distribution(stored, modality);
    const { low, high } = choice.percentile;
    return rangeTransform(percentile(d, low), percentile(d, high), `percentile ${low}-${high}`);
  }
  return windowTransform({ center: choice.center, width: choice.width, fn: voiFunction(choice.function) }, windowOutputRange(h), 'window (params)');
}

/** Applies `f` per pixel through a table over all 8/16-bit words, or the stored-value span when it is small. */
function mapThroughTable(stored: Words, out: Uint8Array | Uint16Array, f: (v: number) => number): void {
  if (stored.length === 0) return;
  const { min, max } = stored instanceof Uint8Array ? { min: 0, max: 255 } : stored instanceof Uint16Array ? { min: 0, max: 65535 } : valueRange(stored);
  if (max - min > 1 << 20) {
    for (let i = 0; i < stored.length; i++) out[i] = f(stored[i]);
    return;
  }
  const table = out instanceof Uint8Array ? new Uint8Array(max - min + 1) : new Uint16Array(max - min + 1);
  for (let v = min; v <= max; v++) table[v - min] = f(v);
  lookupInto(stored, min, table, out);
}
