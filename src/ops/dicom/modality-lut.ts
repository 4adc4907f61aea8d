import type { DicomHeader, Lut } from './parse.ts';

/**
 * The Modality LUT stage (PS3.3 C.11.1) as pydicom's `apply_modality_lut`: a Modality LUT Sequence wins,
 * else Rescale Slope/Intercept when both are present, else identity.
 */
export function modalityTransform(h: Pick<DicomHeader, 'modalityLut' | 'rescaleSlope' | 'rescaleIntercept'>): (stored: number) => number {
  if (h.modalityLut) {
    const lut = h.modalityLut;
    return (v) => lookup(lut, v);
  }
  if (h.rescaleSlope !== undefined && h.rescaleIntercept !== undefined) {
    const slope = h.rescaleSlope;
    const intercept = h.rescaleIntercept;
    return (v) => v * slope + intercept;
  }
  return (v) => v;
}

/**
 * A LUT lookup with pydicom's clamping: inputs below the first mapped value take entry 0, above the last
 * described entry the last one. A LUT holding fewer entries than its descriptor declares gives its last
 * present entry past its end (pydicom gives the same wherever it renders such a file at all).
 */
export function lookup(lut: Lut, value: number): number {
  let index = value - lut.firstMapped;
  if (index < 0) index = 0;
  else if (index > lut.entries - 1) index = lut.entries - 1;
  index = Math.trunc(index);
  return lut.data[index < lut.data.length ? index : lut.data.length - 1];
}

export function applyModalityLut(values: ArrayLike<number>, h: Pick<DicomHeader, 'modalityLut' | 'rescaleSlope' | 'rescaleIntercept'>): Float64Array {
  const f = modalityTransform(h);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f(values[i]);
  return out;
}
