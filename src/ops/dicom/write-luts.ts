import { swapBytes } from './byte-order.ts';

/** A Modality or VOI LUT Sequence item to write (PS3.3 C.11.1, C.11.2). */
export interface LutSpec {
  /** First input value mapped: modality output for a VOI LUT, stored value for a Modality LUT. May be negative. */
  firstMapped: number;
  /** Bits per LUT entry (descriptor value 3). */
  bits: number;
  data: ArrayLike<number>;
  explanation?: string;
  /** The descriptor's entry count when it must differ from `data.length` (e.g. 0 for 65,536, or a LUT with fewer entries than it claims). */
  entries?: number;
  /** LUT Data as OW (default) or US. */
  dataVr?: 'OW' | 'US';
}

/** Palette Color LUTs to write (PS3.3 C.7.6.3.1.5-6); `segmented` writes Segmented ... LUT Data (C.7.9.2) instead. */
export interface PaletteSpec {
  firstMapped: number;
  bits: 8 | 16;
  red: ArrayLike<number>;
  green: ArrayLike<number>;
  blue: ArrayLike<number>;
  /** The descriptor's entry count (default: the length of `red`; with `segmented`, required). */
  entries?: number;
  segmented?: boolean;
}

export type Element = { vr: string; Value: unknown[] };
export const el = (vr: string, ...values: unknown[]): Element => ({ vr, Value: values });

export interface Encoding {
  littleEndian: boolean;
  explicitVR: boolean;
  pixelRepresentation: number;
}

/**
 * The LUT Descriptor's first-mapped value is US or SS. In explicit VR the file says which (SS when the value
 * is negative); in implicit VR readers resolve it by Pixel Representation, so a negative value of an unsigned
 * image cannot be written in a way pydicom or dcmtk would read back.
 */
function descriptor(entries: number, firstMapped: number, bits: number, enc: Encoding, what: string): Element {
  if (firstMapped < 0 && !enc.explicitVR && enc.pixelRepresentation === 0) {
    throw new Error(`writeDicom: ${what} first mapped value ${firstMapped} is negative in an implicit VR file of an unsigned image: readers would take it as ${firstMapped + 65536} (US)`);
  }
  const signed = firstMapped < 0 || (!enc.explicitVR && enc.pixelRepresentation === 1);
  if (firstMapped < -32768 || firstMapped > (signed ? 32767 : 65535)) throw new Error(`writeDicom: ${what} first mapped value ${firstMapped} does not fit 16 bits`);
  return el(signed ? 'SS' : 'US', entries === 65536 ? 0 : entries, firstMapped, bits);
}

/** 16-bit words in the file's byte order, as an OW value (dcmjs writes binary values as given). */
export function owWords(values: ArrayLike<number>, enc: Pick<Encoding, 'littleEndian'>): ArrayBuffer {
  const words = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) words[i] = values[i];
  const bytes = new Uint8Array(words.buffer);
  return (enc.littleEndian ? bytes : swapBytes(bytes, 2)).slice().buffer as ArrayBuffer;
}

export function lutItem(lut: LutSpec, enc: Encoding, what: string): Record<string, Element> {
  const entries = lut.entries ?? lut.data.length;
  const item: Record<string, Element> = {
    '00283002': descriptor(entries, lut.firstMapped, lut.bits, enc, what),
    '00283006': lut.dataVr === 'US' ? el('US', ...Array.from(lut.data)) : el('OW', owWords(lut.data, enc)),
  };
  if (lut.explanation) item['00283003'] = el('LO', lut.explanation);
  return item;
}

/** Red/green/blue Palette Color LUT Descriptors and (segmented) data. */
export function paletteElements(p: PaletteSpec, enc: Encoding): Record<string, Element> {
  const out: Record<string, Element> = {};
  const entries = p.entries ?? p.red.length;
  const tags = [
    ['00281101', '00281201', '00281221', p.red],
    ['00281102', '00281202', '00281222', p.green],
    ['00281103', '00281203', '00281223', p.blue],
  ] as const;
  for (const [descriptorTag, dataTag, segmentedTag, values] of tags) {
    out[descriptorTag] = descriptor(entries, p.firstMapped, p.bits, enc, 'palette');
    if (p.segmented) out[segmentedTag] = el('OW', owWords(values, enc));
    else out[dataTag] = el('OW', owWords(values, enc));
  }
  return out;
}
