import type dicomParser from 'dicom-parser';
import { roundHalfEven } from './round.ts';

type DataSet = dicomParser.DataSet;

/** A lookup table from a Modality LUT Sequence or VOI LUT Sequence item (PS3.3 C.11.1 / C.11.2). */
export interface Lut {
  /** Entries the descriptor declares (a first value of 0 means 65,536: PS3.3 C.11.1.1). */
  entries: number;
  /** The first input value mapped (may be negative). */
  firstMapped: number;
  /** Bits per output entry (the descriptor's third value). */
  bitsPerEntry: number;
  /**
   * The entries present in LUT Data: at most `entries`, maybe fewer (inputs past the last present entry
   * take it, which is what pydicom gives for every file it can render), 8-bit entries masked to 8 bits
   * as numpy's uint8 does in pydicom.
   */
  data: Uint16Array;
}

/** Red, green and blue Palette Color LUTs (PS3.3 C.7.6.3.1.5/6, segmented: C.7.9.2). */
export interface PaletteLuts {
  entries: number;
  firstMapped: number;
  /** Bits per entry (8 or 16): the output range is 0 .. 2^bits - 1. */
  bits: number;
  red: Uint16Array;
  green: Uint16Array;
  blue: Uint16Array;
}

/**
 * The first-mapped value of a LUT descriptor is US or SS: the explicit VR says which; in implicit VR it
 * follows Pixel Representation (as pydicom resolves the ambiguous VR). Entries and bits are always unsigned.
 */
function descriptor(ds: DataSet, tag: string, pixelRepresentation: number): { entries: number; firstMapped: number; bits: number } | undefined {
  const element = ds.elements[tag];
  if (!element || element.length < 6) return undefined;
  const entries = ds.uint16(tag, 0) || 65536;
  let firstMapped = ds.uint16(tag, 1) ?? 0;
  const signed = element.vr ? element.vr === 'SS' : pixelRepresentation === 1;
  if (signed && firstMapped > 0x7fff) firstMapped -= 0x10000;
  return { entries, firstMapped, bits: ds.uint16(tag, 2) ?? 16 };
}

/** 16-bit words of an element in the data set's byte order. */
function words(ds: DataSet, tag: string, max: number): Uint16Array {
  const element = ds.elements[tag];
  const count = Math.min(max, Math.floor(element.length / 2));
  const out = new Uint16Array(count);
  for (let i = 0; i < count; i++) out[i] = ds.uint16(tag, i) ?? 0;
  return out;
}

/** Item 0.. of a Modality LUT Sequence (0028,3000) or VOI LUT Sequence (0028,3010); items without descriptor or data are skipped. */
export function readLutSequence(ds: DataSet, sequenceTag: string, pixelRepresentation: number): Lut[] {
  const luts: Lut[] = [];
  for (const item of ds.elements[sequenceTag]?.items ?? []) {
    const lut = item.dataSet;
    if (!lut?.elements.x00283006) continue;
    const d = descriptor(lut, 'x00283002', pixelRepresentation);
    if (!d) continue;
    const data = words(lut, 'x00283006', d.entries);
    if (data.length === 0) continue;
    if (d.bits <= 8) for (let i = 0; i < data.length; i++) data[i] &= 0xff;
    luts.push({ entries: d.entries, firstMapped: d.firstMapped, bitsPerEntry: d.bits, data });
  }
  return luts;
}

const PALETTE = {
  red: { descriptor: 'x00281101', data: 'x00281201', segmented: 'x00281221' },
  green: { descriptor: 'x00281102', data: 'x00281202', segmented: 'x00281222' },
  blue: { descriptor: 'x00281103', data: 'x00281203', segmented: 'x00281223' },
} as const;

/** The Palette Color LUTs of a PALETTE COLOR image, or undefined when the file has none. */
export function readPalette(ds: DataSet, pixelRepresentation: number): PaletteLuts | undefined {
  const d = descriptor(ds, PALETTE.red.descriptor, pixelRepresentation);
  if (!d) return undefined;
  const bytePacked = ds.elements[PALETTE.red.data]?.length === d.entries;
  const channel = (c: keyof typeof PALETTE): Uint16Array => {
    const tags = PALETTE[c];
    const element = ds.elements[tags.data];
    if (element) {
      // 8-bit entries may be stored one per byte (data length = entries) or one per 16-bit word.
      if (bytePacked) return Uint16Array.from(ds.byteArray.subarray(element.dataOffset, element.dataOffset + d.entries));
      return words(ds, tags.data, d.entries);
    }
    const segmented = ds.elements[tags.segmented];
    if (segmented) {
      const values = d.bits <= 8 ? ds.byteArray.subarray(segmented.dataOffset, segmented.dataOffset + segmented.length) : words(ds, tags.segmented, Infinity);
      return Uint16Array.from(expandSegmentedLut(values, d.bits <= 8 ? 1 : 2));
    }
    throw new Error(`PALETTE COLOR image without ${c} Palette Color LUT Data`);
  };
  // The output depth is what the data holds (pydicom: 8 when stored one entry per byte).
  const bits = bytePacked ? 8 : d.bits <= 8 ? 8 : 16;
  return { entries: d.entries, firstMapped: d.firstMapped, bits, red: channel('red'), green: channel('green'), blue: channel('blue') };
}

/**
 * Expands a segmented palette LUT (PS3.3 C.7.9.2): discrete (opcode 0), linear (1) and indirect (2)
 * segments, with the rounding of pydicom's `_expand_segmented_lut` (numpy linspace, round half to even).
 * `wordBytes` is the size of one value (1 or 2): it sets how an indirect segment's 32-bit offset is stored.
 */
export function expandSegmentedLut(data: ArrayLike<number>, wordBytes: 1 | 2, start = 0, maxSegments = Infinity, previous?: number): number[] {
  const lut: number[] = [];
  let offset = start;
  let segments = 0;
  while (offset + 1 < data.length && segments < maxSegments) {
    const opcode = data[offset];
    const length = data[offset + 1];
    offset += 2;
    segments++;
    if (opcode === 0) {
      for (let i = 0; i < length; i++) lut.push(data[offset + i]);
      offset += length;
    } else if (opcode === 1) {
      const y0 = lut.length ? lut[lut.length - 1] : previous;
      if (y0 === undefined) throw new Error('segmented palette LUT: the first segment cannot be linear');
      const y1 = data[offset++];
      if (y0 === y1) for (let i = 0; i < length; i++) lut.push(y1);
      else lut.push(...linspaceRounded(y0 + (y1 - y0) / length, y1, length));
    } else if (opcode === 2) {
      if (!lut.length) throw new Error('segmented palette LUT: the first segment cannot be indirect');
      // The byte offset is a 32-bit value in two 16-bit words, least significant first (or 4 bytes for 8-bit data).
      const byteOffset = wordBytes === 2 ? (data[offset + 1] << 16) | data[offset] : ((data[offset + 3] << 8) | data[offset + 2]) * 65536 + ((data[offset + 1] << 8) | data[offset]);
      offset += wordBytes === 2 ? 2 : 4;
      // pydicom, GDCM and dcmtk index the values with it (words for 16-bit data), not bytes.
      lut.push(...expandSegmentedLut(data, wordBytes, byteOffset, length, lut[lut.length - 1]));
    } else {
      throw new Error(`segmented palette LUT: unknown opcode ${opcode}`);
    }
  }
  return lut;
}

/** numpy's `around(linspace(start, stop, num))`: start + i * (stop - start) / (num - 1), the last value exactly `stop`. */
function linspaceRounded(start: number, stop: number, num: number): number[] {
  if (num <= 0) return [];
  if (num === 1) return [roundHalfEven(start)];
  const step = (stop - start) / (num - 1);
  const out: number[] = [];
  for (let i = 0; i < num - 1; i++) out.push(roundHalfEven(i * step + start));
  out.push(roundHalfEven(stop));
  return out;
}
