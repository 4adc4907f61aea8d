import dicomParser from 'dicom-parser';
import { DicomParseError, readDataSet } from './dataset.ts';
import { swapBytes } from './byte-order.ts';
import { errorText } from '../../util/error-text.ts';
import { readLutSequence, readPalette, type Lut, type PaletteLuts } from './lut-data.ts';
import { transferSyntax, type TransferSyntax } from './transfer-syntax.ts';

export { DicomParseError };

export type { Lut, PaletteLuts } from './lut-data.ts';

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
  /** Palette Color LUTs of a PALETTE COLOR image. */
  palette?: PaletteLuts;
  /** `integer`: Pixel Data (7FE0,0010); `float32`/`float64`: Float / Double Float Pixel Data (7FE0,0008 / 0009). */
  sampleType: SampleType;
}

export type SampleType = 'integer' | 'float32' | 'float64';

/** The pixel data elements, in the order a file may hold them (PS3.3 C.7.6.3, C.7.6.24). */
const PIXEL_ELEMENTS: ReadonlyArray<{ tag: string; type: SampleType }> = [
  { tag: 'x7fe00010', type: 'integer' },
  { tag: 'x7fe00008', type: 'float32' },
  { tag: 'x7fe00009', type: 'float64' },
];

function pixelElement(ds: DataSet): { tag: string; type: SampleType } | undefined {
  return PIXEL_ELEMENTS.find((p) => ds.elements[p.tag]);
}

/** Where the pixel data of each frame lives, still encoded. */
export type EncodedPixels =
  | { encapsulated: false; bytes: Uint8Array }
  | { encapsulated: true; frames: Uint8Array[] };

export interface ParsedDicom {
  header: DicomHeader;
  pixels: EncodedPixels;
}

type DataSet = dicomParser.DataSet;

/** Parses a DICOM file (Part 10 with preamble, or a bare data set) into its pixel header and encoded frames. */
export function parseDicom(bytes: Uint8Array): ParsedDicom {
  const { dataSet, inferred, transferSyntaxUid } = readDataSet(bytes);
  const header = readHeader(dataSet, inferred, transferSyntaxUid);
  return { header, pixels: readEncodedPixels(dataSet, header) };
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

function readHeader(ds: DataSet, inferred: boolean, uid: string): DicomHeader {
  const pixels = pixelElement(ds);
  if (!pixels) throw new DicomParseError('no pixel data (7FE0,0010), Float Pixel Data (7FE0,0008) or Double Float Pixel Data (7FE0,0009) in the file');
  const float = pixels.type !== 'integer';
  const bitsAllocated = requiredUint16(ds, 'x00280100', 'Bits Allocated');
  if (pixels.type === 'float32' && bitsAllocated !== 32) throw new DicomParseError(`Float Pixel Data needs Bits Allocated 32, the file says ${bitsAllocated}`);
  if (pixels.type === 'float64' && bitsAllocated !== 64) throw new DicomParseError(`Double Float Pixel Data needs Bits Allocated 64, the file says ${bitsAllocated}`);
  // Float pixel data has no Bits Stored / High Bit / Pixel Representation (PS3.3 C.7.6.24).
  const pixelRepresentation = float ? 0 : (ds.uint16('x00280103') ?? 0);
  const bitsStored = float ? bitsAllocated : (ds.uint16('x00280101') ?? bitsAllocated);
  const slope = ds.floatString('x00281053');
  const intercept = ds.floatString('x00281052');
  const hasRescale = slope !== undefined && intercept !== undefined && Number.isFinite(slope) && Number.isFinite(intercept);
  const voiFunction = ds.string('x00281056')?.trim().toUpperCase();
  const photometric = (ds.string('x00280004') ?? 'MONOCHROME2').trim().toUpperCase();
  const palette = photometric === 'PALETTE COLOR' ? readPalette(ds, pixelRepresentation) : undefined;
  if (photometric === 'PALETTE COLOR' && !palette) throw new DicomParseError('PALETTE COLOR image without a Red Palette Color Lookup Table Descriptor (0028,1101)');
  return {
    transferSyntax: transferSyntax(uid),
    inferredTransferSyntax: inferred,
    rows: requiredUint16(ds, 'x00280010', 'Rows'),
    columns: requiredUint16(ds, 'x00280011', 'Columns'),
    bitsAllocated,
    bitsStored,
    highBit: float ? bitsAllocated - 1 : (ds.uint16('x00280102') ?? bitsStored - 1),
    pixelRepresentation,
    samplesPerPixel: ds.uint16('x00280002') ?? 1,
    planarConfiguration: ds.uint16('x00280006') ?? 0,
    photometric,
    frames: Math.max(1, ds.intString('x00280008') ?? 1),
    ...(hasRescale ? { rescaleSlope: slope, rescaleIntercept: intercept } : {}),
    windowCenters: numbers(ds, 'x00281050'),
    windowWidths: numbers(ds, 'x00281051'),
    ...(voiFunction ? { voiLutFunction: voiFunction } : {}),
    modalityLut: readLutSequence(ds, 'x00283000', pixelRepresentation)[0],
    voiLuts: readLutSequence(ds, 'x00283010', pixelRepresentation),
    ...(palette ? { palette } : {}),
    sampleType: pixels.type,
  };
}

function readEncodedPixels(ds: DataSet, header: DicomHeader): EncodedPixels {
  const element = ds.elements[pixelElement(ds)!.tag];
  const buffer = ds.byteArray;
  if (!element.encapsulatedPixelData) {
    if (element.dataOffset + element.length > buffer.length) {
      throw new DicomParseError(`truncated pixel data: element says ${element.length} bytes, file has ${buffer.length - element.dataOffset}`);
    }
    const bytes = buffer.subarray(element.dataOffset, element.dataOffset + element.length);
    // 8-bit samples in an OW element of a big-endian data set are stored in swapped 16-bit words
    // (PS3.5 7.3: OW is byte-swapped as 16-bit words; the pad byte moves too), as pydicom 3 and GDCM read them.
    const swappedWords = !header.transferSyntax.littleEndian && header.bitsAllocated === 8 && element.vr === 'OW';
    return { encapsulated: false, bytes: swappedWords ? swapBytes(bytes, 2) : bytes };
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
