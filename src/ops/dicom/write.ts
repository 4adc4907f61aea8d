import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import dcmjs from 'dcmjs';
import { encodeRleFrame } from './rle.ts';

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

export interface VoiLut {
  /** First stored (modality-output) value mapped by the LUT. */
  firstMapped: number;
  /** Bits per LUT entry (8..16). */
  bits: number;
  data: ArrayLike<number>;
  explanation?: string;
}

export interface DicomImageSpec {
  rows: number;
  columns: number;
  /** Stored values, row-major; Int16Array for PixelRepresentation 1. */
  pixels: Uint8Array | Uint16Array | Int16Array;
  photometric?: 'MONOCHROME1' | 'MONOCHROME2';
  bitsAllocated?: 8 | 16;
  bitsStored?: number;
  pixelRepresentation?: 0 | 1;
  rescale?: { slope: number; intercept: number };
  /** Absent -> no Window Center/Width in the file. Arrays give several windows. */
  window?: { center: number | number[]; width: number | number[] };
  voiLutFunction?: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';
  voiLut?: VoiLut;
  transferSyntax?: TransferSyntaxName;
  modality?: 'DX' | 'CR';
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

type Element = { vr: string; Value: unknown[] };
const el = (vr: string, ...values: unknown[]): Element => ({ vr, Value: values });
const ds = (n: number): string => {
  const s = String(+n.toPrecision(10));
  return s.length <= 16 ? s : n.toExponential(8);
};

/**
 * Writes a DICOM Part 10 file (128-byte preamble, `DICM`, file meta) holding one grey image.
 * Built on dcmjs's DicomDict; RLE is encoded here (Annex G) and deflate applied to the dataset bytes.
 */
export function writeDicom(spec: DicomImageSpec): Uint8Array {
  const bitsAllocated = spec.bitsAllocated ?? (spec.pixels instanceof Uint8Array ? 8 : 16);
  const bitsStored = spec.bitsStored ?? bitsAllocated;
  const pixelRepresentation = spec.pixelRepresentation ?? (spec.pixels instanceof Int16Array ? 1 : 0);
  const syntax = spec.transferSyntax ?? 'explicit-le';
  const modality = spec.modality ?? 'DX';
  validate(spec, bitsAllocated, bitsStored, pixelRepresentation);

  const sopUid = spec.sopUid ?? uidFrom('sop', String(spec.rows), String(spec.columns), createHash('sha256').update(byteView(spec.pixels)).digest('hex'));
  const studyUid = spec.studyUid ?? uidFrom('study', sopUid);
  const seriesUid = spec.seriesUid ?? uidFrom('series', sopUid);

  const meta: Record<string, Element> = {
    '00020001': el('OB', new Uint8Array([0, 1]).buffer),
    '00020002': el('UI', SOP_CLASS[modality]),
    '00020003': el('UI', sopUid),
    '00020010': el('UI', TRANSFER_SYNTAX_UIDS[syntax]),
    '00020012': el('UI', '1.2.826.0.1.3680043.10.1418.1'),
    '00020013': el('SH', 'PIPELINE_1'),
  };

  const dict: Record<string, Element> = {
    '00080016': el('UI', SOP_CLASS[modality]),
    '00080018': el('UI', sopUid),
    '00080060': el('CS', modality),
    '0020000D': el('UI', studyUid),
    '0020000E': el('UI', seriesUid),
    '00200013': el('IS', 1),
    '00280002': el('US', 1),
    '00280004': el('CS', spec.photometric ?? 'MONOCHROME2'),
    '00280010': el('US', spec.rows),
    '00280011': el('US', spec.columns),
    '00280100': el('US', bitsAllocated),
    '00280101': el('US', bitsStored),
    '00280102': el('US', bitsStored - 1),
    '00280103': el('US', pixelRepresentation),
  };
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
  if (spec.voiLutFunction) dict['00281056'] = el('CS', spec.voiLutFunction);
  if (spec.voiLut) dict['00283010'] = el('SQ', voiLutItem(spec.voiLut, pixelRepresentation));
  Object.assign(dict, spec.extra ?? {});

  const native = nativePixelBytes(spec.pixels, bitsAllocated);
  const bytesPerSample = bitsAllocated === 8 ? 1 : 2;
  let pixelValue: ArrayBuffer;
  if (syntax === 'rle') {
    pixelValue = copyBuffer(encodeRleFrame(native, spec.rows, spec.columns, bytesPerSample));
  } else if (syntax === 'explicit-be' && bytesPerSample === 2) {
    pixelValue = copyBuffer(padEven(swap16(native)));
  } else {
    pixelValue = copyBuffer(padEven(native));
  }
  // OW for 16-bit native data (so big-endian readers swap it), OB otherwise (8-bit, encapsulated).
  dict['7FE00010'] = el(bytesPerSample === 2 && syntax !== 'rle' ? 'OW' : 'OB', pixelValue);

  const dicomDict = new dcmjs.data.DicomDict(meta);
  dicomDict.dict = dict;
  const written = new Uint8Array(dicomDict.write({ fragmentMultiframe: false }));
  return syntax === 'deflate' ? deflateDataset(written) : written;
}

function validate(spec: DicomImageSpec, bitsAllocated: number, bitsStored: number, pixelRepresentation: number): void {
  if (spec.pixels.length !== spec.rows * spec.columns) {
    throw new Error(`writeDicom: ${spec.pixels.length} pixels given for ${spec.rows}x${spec.columns}`);
  }
  if (bitsStored > bitsAllocated || bitsStored < 1) throw new Error(`writeDicom: BitsStored ${bitsStored} with BitsAllocated ${bitsAllocated}`);
  if (bitsAllocated === 8 && !(spec.pixels instanceof Uint8Array)) throw new Error('writeDicom: BitsAllocated 8 needs a Uint8Array');
  const lo = pixelRepresentation ? -(2 ** (bitsStored - 1)) : 0;
  const hi = pixelRepresentation ? 2 ** (bitsStored - 1) - 1 : 2 ** bitsStored - 1;
  for (let i = 0; i < spec.pixels.length; i++) {
    const v = spec.pixels[i];
    if (v < lo || v > hi) throw new Error(`writeDicom: pixel ${i} = ${v} outside [${lo}, ${hi}] for BitsStored ${bitsStored}`);
  }
}

function voiLutItem(lut: VoiLut, pixelRepresentation: number): Record<string, Element> {
  const n = lut.data.length;
  const data = new Uint16Array(n);
  for (let i = 0; i < n; i++) data[i] = lut.data[i];
  // The descriptor's first-mapped value is US or SS following Pixel Representation (PS3.3 C.11.2.1.1).
  const descriptorVr = pixelRepresentation ? 'SS' : 'US';
  const item: Record<string, Element> = {
    '00283002': el(descriptorVr, n === 65536 ? 0 : n, lut.firstMapped, lut.bits),
    '00283006': el('OW', copyBuffer(new Uint8Array(data.buffer))),
  };
  if (lut.explanation) item['00283003'] = el('LO', lut.explanation);
  return item;
}

function byteView(a: Uint8Array | Uint16Array | Int16Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Native little-endian sample bytes. */
function nativePixelBytes(pixels: Uint8Array | Uint16Array | Int16Array, bitsAllocated: number): Uint8Array {
  if (bitsAllocated === 8) return pixels as Uint8Array;
  const out = new Uint8Array(pixels.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < pixels.length; i++) view.setUint16(i * 2, pixels[i] & 0xffff, true);
  return out;
}

function swap16(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    out[i] = bytes[i + 1];
    out[i + 1] = bytes[i];
  }
  return out;
}

function padEven(bytes: Uint8Array): Uint8Array {
  if (bytes.length % 2 === 0) return bytes;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

function copyBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
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
