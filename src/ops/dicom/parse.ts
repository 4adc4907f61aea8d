import dicomParser from 'dicom-parser';
import { errorText } from '../../util/error-text.ts';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, transferSyntax, type TransferSyntax } from './transfer-syntax.ts';

/** A lookup table from a Modality LUT Sequence or VOI LUT Sequence item (PS3.3 C.11.1 / C.11.2). */
export interface Lut {
  /** Number of entries (a descriptor value of 0 means 65536). */
  entries: number;
  /** The first input value mapped (may be negative). */
  firstMapped: number;
  /** Bits per output entry (8, 10..16). */
  bitsPerEntry: number;
  data: Uint16Array;
}

/** The image-pixel header facts needed to decode and render; no patient data. */
export interface DicomHeader {
  transferSyntax: TransferSyntax;
  /** True when the file had no 128-byte preamble / `DICM` prefix and the syntax was inferred. */
  inferredTransferSyntax: boolean;
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: number;
  samplesPerPixel: number;
  planarConfiguration: number;
  photometric: string;
  frames: number;
  rescaleSlope?: number;
  rescaleIntercept?: number;
  windowCenters: number[];
  windowWidths: number[];
  voiLutFunction?: string;
  modalityLut?: Lut;
  voiLuts: Lut[];
}

/** Where the pixel data of each frame lives, still encoded. */
export type EncodedPixels =
  | { encapsulated: false; bytes: Uint8Array }
  | { encapsulated: true; frames: Uint8Array[] };

export interface ParsedDicom {
  header: DicomHeader;
  pixels: EncodedPixels;
}

/** A file that is not DICOM, truncated, or lacks what rendering needs. The message says why. */
export class DicomParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DicomParseError';
  }
}

type DataSet = dicomParser.DataSet;

/** Parses a DICOM file (Part 10 with preamble, or a bare data set) into its pixel header and encoded frames. */
export function parseDicom(bytes: Uint8Array): ParsedDicom {
  const data = bytes instanceof Buffer ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { dataSet, inferred } = readDataSet(data);
  const header = readHeader(dataSet, inferred);
  return { header, pixels: readEncodedPixels(dataSet, header) };
}

function readDataSet(bytes: Buffer): { dataSet: DataSet; inferred: boolean } {
  if (bytes.length < 8) throw new DicomParseError(`not a DICOM file: only ${bytes.length} bytes`);
  const hasPrefix = bytes.length >= 132 && bytes.toString('latin1', 128, 132) === 'DICM';
  let options: dicomParser.ParseDicomOptions | undefined;
  let input = bytes;
  let inferred = false;
  if (!hasPrefix) {
    const group = bytes.readUInt16LE(0);
    if (group === 0x0002) {
      // File meta information without the preamble: give dicom-parser the preamble it expects.
      input = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), bytes]);
    } else if (group >= 0x0008 && group <= 0x0028 && bytes.readUInt16LE(2) < 0x1000) {
      inferred = true;
      const vr = bytes.toString('latin1', 4, 6);
      options = { TransferSyntaxUID: /^[A-Z]{2}$/.test(vr) ? EXPLICIT_VR_LITTLE_ENDIAN : IMPLICIT_VR_LITTLE_ENDIAN };
    } else {
      throw new DicomParseError('not a DICOM file: no "DICM" prefix at byte 128 and the data does not start with a DICOM group');
    }
  }
  try {
    return { dataSet: dicomParser.parseDicom(input, options), inferred };
  } catch (err) {
    throw new DicomParseError(`cannot parse DICOM (truncated or corrupt?): ${errorText(err).replace(/^dicomParser\.\w+: /, '')}`);
  }
}

function requiredUint16(ds: DataSet, tag: string, name: string): number {
  const value = ds.uint16(tag);
  if (value === undefined) throw new DicomParseError(`missing ${name} (${tagLabel(tag)})`);
  return value;
}

function tagLabel(tag: string): string {
  return `${tag.slice(1, 5).toUpperCase()},${tag.slice(5).toUpperCase()}`;
}

function numbers(ds: DataSet, tag: string): number[] {
  const count = ds.elements[tag] ? ds.numStringValues(tag) ?? 0 : 0;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const v = ds.floatString(tag, i);
    if (v !== undefined && Number.isFinite(v)) out.push(v);
  }
  return out;
}

function readHeader(ds: DataSet, inferred: boolean): DicomHeader {
  const uid = ds.string('x00020010') ?? IMPLICIT_VR_LITTLE_ENDIAN;
  if (!ds.elements.x7fe00010) {
    const other = ds.elements.x7fe00008 ? 'Float Pixel Data' : ds.elements.x7fe00009 ? 'Double Float Pixel Data' : undefined;
    throw new DicomParseError(other ? `${other} (7FE0,000x) is not supported` : 'no pixel data (7FE0,0010) in the file');
  }
  const bitsAllocated = requiredUint16(ds, 'x00280100', 'Bits Allocated');
  const pixelRepresentation = ds.uint16('x00280103') ?? 0;
  const slope = ds.floatString('x00281053');
  const intercept = ds.floatString('x00281052');
  const hasRescale = slope !== undefined && intercept !== undefined && Number.isFinite(slope) && Number.isFinite(intercept);
  const voiFunction = ds.string('x00281056')?.trim().toUpperCase();
  return {
    transferSyntax: transferSyntax(uid),
    inferredTransferSyntax: inferred,
    rows: requiredUint16(ds, 'x00280010', 'Rows'),
    columns: requiredUint16(ds, 'x00280011', 'Columns'),
    bitsAllocated,
    bitsStored: ds.uint16('x00280101') ?? bitsAllocated,
    highBit: ds.uint16('x00280102') ?? (ds.uint16('x00280101') ?? bitsAllocated) - 1,
    pixelRepresentation,
    samplesPerPixel: ds.uint16('x00280002') ?? 1,
    planarConfiguration: ds.uint16('x00280006') ?? 0,
    photometric: (ds.string('x00280004') ?? 'MONOCHROME2').trim().toUpperCase(),
    frames: Math.max(1, ds.intString('x00280008') ?? 1),
    ...(hasRescale ? { rescaleSlope: slope, rescaleIntercept: intercept } : {}),
    windowCenters: numbers(ds, 'x00281050'),
    windowWidths: numbers(ds, 'x00281051'),
    ...(voiFunction ? { voiLutFunction: voiFunction } : {}),
    modalityLut: readLuts(ds, 'x00283000', pixelRepresentation)[0],
    voiLuts: readLuts(ds, 'x00283010', pixelRepresentation),
  };
}

/**
 * LUT Descriptor's first-mapped value is US or SS: the VR says which in explicit syntaxes; in implicit
 * VR it follows Pixel Representation (as pydicom resolves the ambiguous VR).
 */
function readLuts(ds: DataSet, sequenceTag: string, pixelRepresentation: number): Lut[] {
  const items = ds.elements[sequenceTag]?.items ?? [];
  const luts: Lut[] = [];
  for (const item of items) {
    const lut = item.dataSet;
    if (!lut?.elements.x00283002 || !lut.elements.x00283006) continue;
    const entries = lut.uint16('x00283002', 0) || 65536;
    let firstMapped = lut.uint16('x00283002', 1) ?? 0;
    const vr = lut.elements.x00283002.vr;
    const signed = vr ? vr === 'SS' : pixelRepresentation === 1;
    if (signed && firstMapped > 0x7fff) firstMapped -= 0x10000;
    const bitsPerEntry = lut.uint16('x00283002', 2) ?? 16;
    const element = lut.elements.x00283006;
    const available = Math.floor(element.length / 2);
    if (available < entries) throw new DicomParseError(`LUT Data (0028,3006) has ${available} entries, its descriptor says ${entries}`);
    const data = new Uint16Array(entries);
    for (let i = 0; i < entries; i++) data[i] = lut.uint16('x00283006', i) ?? 0;
    luts.push({ entries, firstMapped, bitsPerEntry, data });
  }
  return luts;
}

function readEncodedPixels(ds: DataSet, header: DicomHeader): EncodedPixels {
  const element = ds.elements.x7fe00010;
  const buffer = ds.byteArray;
  if (!element.encapsulatedPixelData) {
    if (element.dataOffset + element.length > buffer.length) {
      throw new DicomParseError(`truncated pixel data: element says ${element.length} bytes, file has ${buffer.length - element.dataOffset}`);
    }
    return { encapsulated: false, bytes: buffer.subarray(element.dataOffset, element.dataOffset + element.length) };
  }
  const fragments = element.fragments ?? [];
  if (fragments.length === 0) throw new DicomParseError('encapsulated pixel data has no fragments');
  const last = fragments[fragments.length - 1];
  if (last.position + last.length > buffer.length) throw new DicomParseError('truncated pixel data: the last fragment runs past the end of the file');
  const frames: Uint8Array[] = [];
  try {
    if (header.frames === 1) {
      frames.push(dicomParser.readEncapsulatedPixelDataFromFragments(ds, element, 0, fragments.length));
    } else if (element.basicOffsetTable && element.basicOffsetTable.length > 0) {
      for (let f = 0; f < header.frames; f++) frames.push(dicomParser.readEncapsulatedImageFrame(ds, element, f));
    } else if (fragments.length === header.frames) {
      for (let f = 0; f < header.frames; f++) frames.push(dicomParser.readEncapsulatedPixelDataFromFragments(ds, element, f, 1));
    } else {
      const table = dicomParser.createJPEGBasicOffsetTable(ds, element);
      for (let f = 0; f < header.frames; f++) frames.push(dicomParser.readEncapsulatedImageFrame(ds, element, f, table));
    }
  } catch (err) {
    throw new DicomParseError(`cannot split encapsulated pixel data into ${header.frames} frame(s): ${errorText(err)}`);
  }
  return { encapsulated: true, frames };
}
