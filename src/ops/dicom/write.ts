import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import dcmjs from 'dcmjs';
import { el, lutItem, paletteElements, type Element, type LutSpec, type PaletteSpec } from './write-luts.ts';
import { swapBytes } from './byte-order.ts';
import { nativeBytes, rleFrames, type PixelLayout, type PixelValues } from './write-pixels.ts';

export type { LutSpec, PaletteSpec } from './write-luts.ts';
export type { PixelValues } from './write-pixels.ts';

/** Transfer syntaxes the writer produces. */
export const TRANSFER_SYNTAX_UIDS = {
  'implicit-le': '1.2.840.10008.1.2',
  'explicit-le': '1.2.840.10008.1.2.1',
  deflate: '1.2.840.10008.1.2.1.99',
  'explicit-be': '1.2.840.10008.1.2.2',
  rle: '1.2.840.10008.1.2.5',
} as const;
export type TransferSyntaxName = keyof typeof TRANSFER_SYNTAX_UIDS;

const SOP_CLASS = {
  DX: '1.2.840.10008.5.1.4.1.1.1.1', // Digital X-Ray Image Storage - For Presentation
  CR: '1.2.840.10008.5.1.4.1.1.1', // Computed Radiography Image Storage
} as const;

/** A VOI LUT Sequence item (the same fields as any LUT). */
export type VoiLut = LutSpec;

export type Photometric = 'MONOCHROME1' | 'MONOCHROME2' | 'RGB' | 'YBR_FULL' | 'YBR_FULL_422' | 'PALETTE COLOR';

export interface DicomImageSpec {
  rows: number;
  columns: number;
  /**
   * Stored values, row-major, samples interleaved, frames one after another; Int8Array/Int16Array for Pixel
   * Representation 1 at 8/16 bits, Int32Array/Uint32Array at 32, Float32Array/Float64Array for Float /
   * Double Float Pixel Data.
   */
  pixels: PixelValues;
  photometric?: Photometric;
  samplesPerPixel?: 1 | 3;
  /** Written planar (RRR...GGG...BBB per frame) when 1; `pixels` are interleaved either way. */
  planarConfiguration?: 0 | 1;
  frames?: number;
  bitsAllocated?: 1 | 8 | 16 | 32 | 64;
  bitsStored?: number;
  /** Default Bits Stored - 1; higher places the value higher in the word. */
  highBit?: number;
  /** The bits above High Bit: sign-extended (default), zero, or all ones (overlay-like bits readers must mask). */
  highBits?: 'sign' | 'zero' | 'ones';
  pixelRepresentation?: 0 | 1;
  rescale?: { slope: number; intercept: number };
  /** Absent -> no Window Center/Width in the file. Arrays give several windows. */
  window?: { center: number | number[]; width: number | number[] };
  voiLutFunction?: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';
  voiLut?: VoiLut;
  modalityLut?: LutSpec;
  palette?: PaletteSpec;
  transferSyntax?: TransferSyntaxName;
  /** Already-encoded frames (e.g. a JPEG-LS stream made for a test) under this transfer syntax UID; overrides `transferSyntax`. */
  encapsulated?: { transferSyntaxUid: string; frames: Uint8Array[] };
  modality?: string;
  /** Default: DX (or CR) image storage for those modalities, else Secondary Capture. */
  sopClassUid?: string;
  patient?: { id?: string; name?: string; birthDate?: string; sex?: 'M' | 'F' | 'O' };
  studyUid?: string;
  seriesUid?: string;
  sopUid?: string;
  studyDate?: string;
  viewPosition?: string;
  /** Row spacing, column spacing in mm. */
  pixelSpacing?: [number, number];
  /** Extra elements in dcmjs dict form, keyed by 8-hex tag: `{ '00081030': { vr: 'LO', Value: ['x'] } }`. */
  extra?: Record<string, { vr: string; Value: unknown[] }>;
}

/** A deterministic DICOM UID (`2.25.<decimal of 128 bits>`) derived from any strings. */
export function uidFrom(...parts: string[]): string {
  const hash = createHash('sha256').update(parts.join('\u0000')).digest();
  return '2.25.' + BigInt('0x' + hash.subarray(0, 16).toString('hex')).toString(10);
}

const ds = (n: number): string => {
  const s = String(+n.toPrecision(10));
  return s.length <= 16 ? s : n.toExponential(8);
};

/**
 * Writes a DICOM Part 10 file (128-byte preamble, `DICM`, file meta) holding one image (grey, colour or
 * palette; one or more frames). Built on dcmjs's DicomDict; RLE is encoded here (Annex G), deflate applied
 * to the data set bytes, and binary values (pixels, LUT Data) byte-swapped here for Explicit VR Big Endian.
 */
export function writeDicom(spec: DicomImageSpec): Uint8Array {
  const float = spec.pixels instanceof Float32Array || spec.pixels instanceof Float64Array;
  const bitsAllocated = spec.bitsAllocated ?? defaultBitsAllocated(spec.pixels);
  const bitsStored = spec.bitsStored ?? bitsAllocated;
  const highBit = spec.highBit ?? bitsStored - 1;
  const pixelRepresentation = spec.pixelRepresentation ?? (spec.pixels instanceof Int8Array || spec.pixels instanceof Int16Array || spec.pixels instanceof Int32Array ? 1 : 0);
  const samples = spec.samplesPerPixel ?? 1;
  const frames = spec.frames ?? 1;
  const photometric = spec.photometric ?? (samples === 3 ? 'RGB' : 'MONOCHROME2');
  const syntax = spec.transferSyntax ?? 'explicit-le';
  const tsUid = spec.encapsulated?.transferSyntaxUid ?? TRANSFER_SYNTAX_UIDS[syntax];
  const littleEndian = spec.encapsulated ? true : syntax !== 'explicit-be';
  const explicitVR = spec.encapsulated ? true : syntax !== 'implicit-le';
  const modality = spec.modality ?? 'DX';
  const layout: PixelLayout = {
    rows: spec.rows,
    columns: spec.columns,
    samples,
    frames,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation,
    planar: spec.planarConfiguration ?? 0,
    highBits: spec.highBits ?? 'sign',
    subsampled422: photometric === 'YBR_FULL_422' && samples === 3,
    float,
  };
  validate(spec, layout);

  const sopClass = spec.sopClassUid ?? (modality in SOP_CLASS ? SOP_CLASS[modality as keyof typeof SOP_CLASS] : '1.2.840.10008.5.1.4.1.1.7');
  const sopUid = spec.sopUid ?? uidFrom('sop', String(spec.rows), String(spec.columns), createHash('sha256').update(new Uint8Array(spec.pixels.buffer, spec.pixels.byteOffset, spec.pixels.byteLength)).digest('hex'));
  const studyUid = spec.studyUid ?? uidFrom('study', sopUid);
  const seriesUid = spec.seriesUid ?? uidFrom('series', sopUid);

  const meta: Record<string, Element> = {
    '00020001': el('OB', new Uint8Array([0, 1]).buffer),
    '00020002': el('UI', sopClass),
    '00020003': el('UI', sopUid),
    '00020010': el('UI', tsUid),
    '00020012': el('UI', '1.2.826.0.1.3680043.10.1418.1'),
    '00020013': el('SH', 'PIPELINE_1'),
  };

  const dict: Record<string, Element> = {
    '00080016': el('UI', sopClass),
    '00080018': el('UI', sopUid),
    '00080060': el('CS', modality),
    '0020000D': el('UI', studyUid),
    '0020000E': el('UI', seriesUid),
    '00200013': el('IS', 1),
    '00280002': el('US', samples),
    '00280004': el('CS', photometric),
    '00280010': el('US', spec.rows),
    '00280011': el('US', spec.columns),
    '00280100': el('US', bitsAllocated),
  };
  if (!float) {
    dict['00280101'] = el('US', bitsStored);
    dict['00280102'] = el('US', highBit);
    dict['00280103'] = el('US', pixelRepresentation);
  }
  if (samples > 1) dict['00280006'] = el('US', layout.planar);
  if (frames > 1) dict['00280008'] = el('IS', frames);
  if (spec.studyDate) dict['00080020'] = el('DA', spec.studyDate);
  if (spec.patient?.name !== undefined) dict['00100010'] = el('PN', { Alphabetic: spec.patient.name });
  if (spec.patient?.id !== undefined) dict['00100020'] = el('LO', spec.patient.id);
  if (spec.patient?.birthDate !== undefined) dict['00100030'] = el('DA', spec.patient.birthDate);
  if (spec.patient?.sex !== undefined) dict['00100040'] = el('CS', spec.patient.sex);
  if (spec.viewPosition) dict['00185101'] = el('CS', spec.viewPosition);
  if (spec.pixelSpacing) {
    dict['00280030'] = el('DS', ...spec.pixelSpacing.map(ds));
    dict['00181164'] = el('DS', ...spec.pixelSpacing.map(ds));
  }
  if (spec.rescale) {
    dict['00281052'] = el('DS', ds(spec.rescale.intercept));
    dict['00281053'] = el('DS', ds(spec.rescale.slope));
    dict['00281054'] = el('LO', 'US');
  }
  if (spec.window) {
    const centers = [spec.window.center].flat();
    const widths = [spec.window.width].flat();
    dict['00281050'] = el('DS', ...centers.map(ds));
    dict['00281051'] = el('DS', ...widths.map(ds));
  }
  const encoding = { littleEndian, explicitVR, pixelRepresentation };
  if (spec.voiLutFunction) dict['00281056'] = el('CS', spec.voiLutFunction);
  if (spec.voiLut) dict['00283010'] = el('SQ', lutItem(spec.voiLut, encoding, 'VOI LUT'));
  if (spec.modalityLut) dict['00283000'] = el('SQ', lutItem(spec.modalityLut, encoding, 'Modality LUT'));
  if (spec.palette) Object.assign(dict, paletteElements(spec.palette, encoding));
  Object.assign(dict, spec.extra ?? {});
  Object.assign(dict, pixelElement(spec, layout, syntax, littleEndian));

  const dicomDict = new dcmjs.data.DicomDict(meta);
  dicomDict.dict = dict;
  const written = new Uint8Array(dicomDict.write({ fragmentMultiframe: false }));
  return syntax === 'deflate' && !spec.encapsulated ? deflateDataset(written) : written;
}

function defaultBitsAllocated(pixels: PixelValues): 8 | 16 | 32 | 64 {
  if (pixels instanceof Uint8Array || pixels instanceof Int8Array) return 8;
  if (pixels instanceof Uint16Array || pixels instanceof Int16Array) return 16;
  return pixels instanceof Float64Array ? 64 : 32;
}

/** The pixel data element: Float / Double Float Pixel Data, native Pixel Data (OW above 8 bits) or encapsulated frames. */
function pixelElement(spec: DicomImageSpec, layout: PixelLayout, syntax: TransferSyntaxName, littleEndian: boolean): Record<string, Element> {
  if (spec.encapsulated) return { '7FE00010': el('OB', ...spec.encapsulated.frames.map((f) => f.slice().buffer)) };
  if (syntax === 'rle') return { '7FE00010': el('OB', ...rleFrames(spec.pixels, layout).map((f) => f.slice().buffer)) };
  const width = layout.bitsAllocated >= 8 ? layout.bitsAllocated / 8 : 1;
  let bytes = nativeBytes(spec.pixels, layout);
  if (!littleEndian) bytes = swapBytes(bytes, width);
  const value = padEven(bytes).slice().buffer as ArrayBuffer;
  if (layout.float) return layout.bitsAllocated === 64 ? { '7FE00009': el('OD', value) } : { '7FE00008': el('OF', value) };
  return { '7FE00010': el(layout.bitsAllocated > 8 ? 'OW' : 'OB', value) };
}

function validate(spec: DicomImageSpec, l: PixelLayout): void {
  const expected = l.rows * l.columns * l.samples * l.frames;
  if (spec.pixels.length !== expected) {
    throw new Error(`writeDicom: ${spec.pixels.length} pixels given for ${l.rows}x${l.columns}${l.samples > 1 ? `x${l.samples}` : ''}${l.frames > 1 ? ` x ${l.frames} frames` : ''}`);
  }
  if (l.float) {
    if (l.bitsAllocated !== (spec.pixels instanceof Float64Array ? 64 : 32)) throw new Error(`writeDicom: floating-point pixels with BitsAllocated ${l.bitsAllocated}`);
    if (spec.encapsulated || (spec.transferSyntax ?? 'explicit-le') === 'rle') throw new Error('writeDicom: Float Pixel Data is native only');
    return;
  }
  if (l.bitsStored > l.bitsAllocated || l.bitsStored < 1 || l.highBit >= l.bitsAllocated || l.highBit < l.bitsStored - 1) {
    throw new Error(`writeDicom: BitsStored ${l.bitsStored} / HighBit ${l.highBit} with BitsAllocated ${l.bitsAllocated}`);
  }
  if (l.bitsAllocated === 8 && !(spec.pixels instanceof Uint8Array || spec.pixels instanceof Int8Array)) throw new Error('writeDicom: BitsAllocated 8 needs a Uint8Array or Int8Array');
  if (l.subsampled422 && l.columns % 2) throw new Error('writeDicom: YBR_FULL_422 needs an even number of columns');
  const lo = l.pixelRepresentation ? -(2 ** (l.bitsStored - 1)) : 0;
  const hi = l.pixelRepresentation ? 2 ** (l.bitsStored - 1) - 1 : 2 ** l.bitsStored - 1;
  if (spec.encapsulated) return; // the frames are already encoded
  for (let i = 0; i < spec.pixels.length; i++) {
    const v = spec.pixels[i];
    if (v < lo || v > hi || !Number.isInteger(v)) throw new Error(`writeDicom: pixel ${i} = ${v} outside [${lo}, ${hi}] for BitsStored ${l.bitsStored}`);
  }
}

function padEven(bytes: Uint8Array): Uint8Array {
  if (bytes.length % 2 === 0) return bytes;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Deflated Explicit VR LE (PS3.5 A.5): the dataset after the file meta is raw-deflated. */
function deflateDataset(file: Uint8Array): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  // Preamble (128) + DICM (4) + group length element (12 bytes in explicit LE, UL) + its value.
  const metaEnd = 132 + 12 + view.getUint32(132 + 8, true);
  const deflated = deflateRawSync(file.subarray(metaEnd));
  const out = new Uint8Array(metaEnd + deflated.length + (deflated.length % 2));
  out.set(file.subarray(0, metaEnd));
  out.set(deflated, metaEnd);
  return out;
}
