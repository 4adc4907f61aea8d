import { lookup } from './modality-lut.ts';
import type { DicomHeader, Lut } from './parse.ts';

export type VoiFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

export interface Window {
  center: number;
  width: number;
  fn: VoiFunction;
}

/** The range a VOI transform maps onto; the image scaling maps it to 0..2^bits-1. */
export interface OutputRange {
  min: number;
  max: number;
}

/** A value-of-interest transform: input = modality output, output within `range`. */
export interface VoiTransform {
  apply(x: number): number;
  range: OutputRange;
  /** How it was chosen, for logs and reports (e.g. `window[0] LINEAR c=550 w=1024`). */
  describe: string;
}

/**
 * pydicom's windowing output range (`apply_windowing`): [0, 2^BitsStored-1] unsigned or
 * [-2^(BS-1), 2^(BS-1)-1] signed, [0, 2^depth-1] with a Modality LUT Sequence, passed through
 * Rescale Slope/Intercept when both are present.
 */
export function windowOutputRange(h: Pick<DicomHeader, 'bitsStored' | 'pixelRepresentation' | 'modalityLut' | 'rescaleSlope' | 'rescaleIntercept'>): OutputRange {
  let min: number;
  let max: number;
  if (h.modalityLut) {
    min = 0;
    max = 2 ** h.modalityLut.bitsPerEntry - 1;
  } else if (h.pixelRepresentation === 0) {
    min = 0;
    max = 2 ** h.bitsStored - 1;
  } else {
    min = -(2 ** (h.bitsStored - 1));
    max = 2 ** (h.bitsStored - 1) - 1;
  }
  if (h.rescaleSlope !== undefined && h.rescaleIntercept !== undefined) {
    min = min * h.rescaleSlope + h.rescaleIntercept;
    max = max * h.rescaleSlope + h.rescaleIntercept;
  }
  return { min, max };
}

/** Why a window cannot be applied (PS3.3 C.11.2.1.2: LINEAR needs width >= 1, the others width > 0), or undefined. */
export function windowProblem(w: Window): string | undefined {
  if (!Number.isFinite(w.center) || !Number.isFinite(w.width)) return 'window center/width are not numbers';
  if (w.fn === 'LINEAR' && w.width < 1) return `LINEAR window width ${w.width} < 1`;
  if (w.fn !== 'LINEAR' && w.width <= 0) return `${w.fn} window width ${w.width} <= 0`;
  return undefined;
}

/**
 * Window center/width (PS3.3 C.11.2.1.2 and C.11.2.1.3) exactly as pydicom's `apply_windowing`:
 * LINEAR uses `c - 0.5` and `w - 1`; LINEAR_EXACT uses c and w as given; SIGMOID `range / (1 + exp(-4 (x - c) / w))`.
 */
export function windowFunction(w: Window, range: OutputRange): (x: number) => number {
  const problem = windowProblem(w);
  if (problem) throw new Error(problem);
  const span = range.max - range.min;
  if (w.fn === 'SIGMOID') return (x) => span / (1 + Math.exp((-4 * (x - w.center)) / w.width)) + range.min;
  const c = w.fn === 'LINEAR' ? w.center - 0.5 : w.center;
  const width = w.fn === 'LINEAR' ? w.width - 1 : w.width;
  const low = c - width / 2;
  const high = c + width / 2;
  return (x) => (x <= low ? range.min : x > high ? range.max : ((x - c) / width + 0.5) * span + range.min);
}

/** VOI LUT Sequence item as pydicom's `apply_voi`; the output range is the LUT's bit depth. */
export function voiLutTransform(lut: Lut): VoiTransform {
  return {
    apply: (x) => lookup(lut, x),
    range: { min: 0, max: 2 ** lut.bitsPerEntry - 1 },
    describe: `VOI LUT Sequence[0] (${lut.entries} entries, ${lut.bitsPerEntry} bits)`,
  };
}

export function windowTransform(w: Window, range: OutputRange, label: string): VoiTransform {
  return { apply: windowFunction(w, range), range, describe: `${label} ${w.fn} c=${w.center} w=${w.width}` };
}

/** Linear stretch of [low, high] onto itself, clipped: min-max (low = min, high = max) and percentile windows. */
export function rangeTransform(low: number, high: number, label: string): VoiTransform {
  const span = high - low;
  return {
    apply: span > 0 ? (x) => (x <= low ? low : x >= high ? high : x) : () => low,
    range: span > 0 ? { min: low, max: high } : { min: low, max: low + 1 },
    describe: `${label} [${low}, ${high}]`,
  };
}

/** The VOI LUT Function of the file, defaulting to LINEAR; unknown values are an error (as in pydicom). */
export function voiFunction(value: string | undefined): VoiFunction {
  const fn = (value ?? 'LINEAR').toUpperCase();
  if (fn === 'LINEAR' || fn === 'LINEAR_EXACT' || fn === 'SIGMOID') return fn;
  throw new Error(`unsupported VOI LUT Function (0028,1056) "${value}"`);
}

/** The file's own VOI: VOI LUT Sequence item 0 wins (pydicom's prefer_lut), else window 0. Undefined when none is usable. */
export function fileVoi(h: DicomHeader): { voi?: VoiTransform; problem?: string } {
  if (h.voiLuts.length > 0) return { voi: voiLutTransform(h.voiLuts[0]) };
  if (h.windowCenters.length === 0 || h.windowWidths.length === 0) return { problem: 'the file has no VOI LUT Sequence and no Window Center/Width' };
  const w: Window = { center: h.windowCenters[0], width: h.windowWidths[0], fn: voiFunction(h.voiLutFunction) };
  const problem = windowProblem(w);
  if (problem) return { problem: `the file's window is unusable: ${problem}` };
  return { voi: windowTransform(w, windowOutputRange(h), 'window[0]') };
}
