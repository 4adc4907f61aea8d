import dicomParser from 'dicom-parser';
import { EXPLICIT_VR_BIG_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, transferSyntax } from './transfer-syntax.ts';
import { errorText } from '../../util/error-text.ts';

/** A file that is not DICOM, truncated, or lacks what rendering needs. The message says why. */
export class DicomParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DicomParseError';
  }
}

type DataSet = dicomParser.DataSet;

export interface ReadOptions {
  /** Stop at this tag (its header is read, its value is not). */
  untilTag?: string;
  /** Inflates deflated data sets (dicom-parser's option); node's zlib by default. */
  inflater?: (bytes: Uint8Array, position: number) => Uint8Array;
}

export interface ReadDataSet {
  dataSet: DataSet;
  /** True when the file had no file meta information and the syntax was inferred from the data. */
  inferred: boolean;
  /** The transfer syntax of the pixel data (from the file meta, else inferred). */
  transferSyntaxUid: string;
  /**
   * Where `dataSet.byteArray` starts in the given bytes (negative when a missing preamble was supplied), so
   * that an element's position in the file is `dataOffset + fileOffset`; undefined for an inflated data set.
   */
  fileOffset?: number;
}

/** Explicit VR data sets have two upper-case letters after the first tag. */
function looksExplicit(bytes: Uint8Array, at: number): boolean {
  const isLetter = (b: number) => b >= 0x41 && b <= 0x5a;
  return at + 6 <= bytes.length && isLetter(bytes[at + 4]) && isLetter(bytes[at + 5]);
}

/**
 * The data set of a DICOM file: Part 10 (with or without the 128-byte preamble), or a bare data set
 * (implicit or explicit VR, little or big endian, inferred from its first element), as pydicom reads them.
 */
export function readDataSet(data: Uint8Array, options: ReadOptions = {}): ReadDataSet {
  const bytes = data instanceof Buffer ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length < 8) throw new DicomParseError(`not a DICOM file: only ${bytes.length} bytes`);
  const hasPrefix = bytes.length >= 132 && bytes.toString('latin1', 128, 132) === 'DICM';
  let input = bytes;
  let fileOffset = 0;
  if (!hasPrefix) {
    if (bytes.readUInt16LE(0) === 0x0002) {
      // File meta information without the preamble: give dicom-parser the preamble it expects.
      input = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), bytes]);
      fileOffset = -132;
    } else {
      const uid = bareDataSetSyntax(bytes);
      if (!uid) throw new DicomParseError('not a DICOM file: no "DICM" prefix at byte 128 and the data does not start with a DICOM group');
      return { dataSet: parseBare(bytes, uid, options), inferred: true, transferSyntaxUid: uid, fileOffset: 0 };
    }
  }
  let meta: DataSet;
  try {
    meta = dicomParser.readPart10Header(input);
  } catch (err) {
    throw corrupt(err);
  }
  const uid = (meta.string('x00020010') ?? IMPLICIT_VR_LITTLE_ENDIAN).replace(/\0/g, '').trim();
  const start = (meta as DataSet & { position: number }).position;
  const syntax = transferSyntax(uid);
  // Some writers declare an explicit syntax and write implicit VR (or the reverse); pydicom reads such
  // files by looking at the data, and so do we (little-endian syntaxes only; deflate is checked after inflating).
  if (syntax.littleEndian && !syntax.deflated && start < input.length && looksExplicit(input, start) !== syntax.explicitVR) {
    const actual = syntax.explicitVR ? IMPLICIT_VR_LITTLE_ENDIAN : EXPLICIT_VR_LITTLE_ENDIAN;
    return { dataSet: parseBare(input.subarray(start), actual, options), inferred: false, transferSyntaxUid: uid, fileOffset: fileOffset + start };
  }
  try {
    return { dataSet: withFragments(dicomParser.parseDicom(input, options as dicomParser.ParseDicomOptions), uid, options), inferred: false, transferSyntaxUid: uid, ...(syntax.deflated ? {} : { fileOffset }) };
  } catch (err) {
    throw corrupt(err);
  }
}

/** The syntax of a data set without file meta information (implicit or explicit VR, little or big endian), or undefined. */
function bareDataSetSyntax(bytes: Buffer): string | undefined {
  const plausible = (group: number, element: number) => group >= 0x0008 && group <= 0x0028 && element < 0x1000;
  if (plausible(bytes.readUInt16LE(0), bytes.readUInt16LE(2))) return looksExplicit(bytes, 0) ? EXPLICIT_VR_LITTLE_ENDIAN : IMPLICIT_VR_LITTLE_ENDIAN;
  if (plausible(bytes.readUInt16BE(0), bytes.readUInt16BE(2)) && looksExplicit(bytes, 0)) return EXPLICIT_VR_BIG_ENDIAN;
  return undefined;
}

/** Parses data set bytes (no preamble, no file meta) in the given syntax; encapsulated pixel data in implicit VR is walked by hand. */
function parseBare(bytes: Buffer, uid: string, options: ReadOptions): DataSet {
  let dataSet: DataSet;
  try {
    // Pixel Data with undefined length must not be taken for a sequence of items in implicit VR.
    dataSet = dicomParser.parseDicom(bytes, { ...options, TransferSyntaxUID: uid, vrCallback: (tag: string) => (tag === 'x7fe00010' ? 'OB' : undefined) } as dicomParser.ParseDicomOptions);
  } catch (err) {
    throw corrupt(err);
  }
  return withFragments(dataSet, uid, options);
}

/**
 * Fragments of encapsulated Pixel Data that dicom-parser left as plain bytes: undefined length in implicit
 * VR, and a defined length (GDCM's JPEGDefinedLengthSequenceOfFragments.dcm), whose value is still a Basic
 * Offset Table and fragment items, which pydicom and GDCM read as such.
 */
function withFragments(dataSet: DataSet, uid: string, options: ReadOptions): DataSet {
  const pixels = dataSet.elements.x7fe00010;
  if (!pixels || pixels.fragments || pixels.tag === options.untilTag) return dataSet;
  const bytes = Buffer.from(dataSet.byteArray.buffer, dataSet.byteArray.byteOffset, dataSet.byteArray.byteLength);
  if (pixels.hadUndefinedLength) Object.assign(pixels, walkFragments(bytes, pixels.dataOffset));
  else if (transferSyntax(uid).encapsulated && startsWithItem(bytes, pixels.dataOffset, pixels.length)) {
    // dicom-parser's frame readers accept item-encoded Pixel Data only when marked as of undefined length.
    Object.assign(pixels, walkFragments(bytes, pixels.dataOffset, pixels.dataOffset + pixels.length), { hadUndefinedLength: true });
  }
  return dataSet;
}

function startsWithItem(bytes: Buffer, offset: number, length: number): boolean {
  return length >= 8 && offset + 8 <= bytes.length && bytes.readUInt16LE(offset) === 0xfffe && bytes.readUInt16LE(offset + 2) === 0xe000;
}

/**
 * Basic Offset Table and fragments of encapsulated pixel data starting at `offset` (PS3.5 A.4), as dicom-parser
 * describes them; up to the sequence delimiter, or to `end` for a value of defined length.
 */
function walkFragments(bytes: Buffer, offset: number, end?: number): { encapsulatedPixelData: true; basicOffsetTable: number[]; fragments: Array<{ offset: number; position: number; length: number }>; length: number } {
  const basicOffsetTable: number[] = [];
  const fragments: Array<{ offset: number; position: number; length: number }> = [];
  let at = offset;
  let first = true;
  let base = offset;
  while (at + 8 <= Math.min(end ?? bytes.length, bytes.length)) {
    const group = bytes.readUInt16LE(at);
    const element = bytes.readUInt16LE(at + 2);
    const length = bytes.readUInt32LE(at + 4);
    if (group === 0xfffe && element === 0xe0dd) return { encapsulatedPixelData: true, basicOffsetTable, fragments, length: at + 8 - offset };
    if (group !== 0xfffe || element !== 0xe000) throw new DicomParseError(`corrupt encapsulated pixel data: item tag expected at byte ${at}`);
    if (first) {
      for (let i = 0; i + 4 <= length; i += 4) basicOffsetTable.push(bytes.readUInt32LE(at + 8 + i));
      base = at + 8 + length; // offsets count from the first fragment's item tag
    } else fragments.push({ offset: at - base, position: at + 8, length });
    first = false;
    at += 8 + length;
    if (at === end) return { encapsulatedPixelData: true, basicOffsetTable, fragments, length: end - offset };
  }
  throw new DicomParseError(end === undefined ? 'truncated pixel data: encapsulated pixel data ends before its sequence delimiter' : 'corrupt encapsulated pixel data: its items do not end where its defined length does');
}


function corrupt(err: unknown): DicomParseError {
  return new DicomParseError(`cannot parse DICOM (truncated or corrupt?): ${errorText(err).replace(/^dicomParser\.\w+: /, '')}`);
}

/** The tag of Float / Double Float Pixel Data when `bytes` hold its element header (little or big endian), else undefined. */
export function floatPixelTag(bytes: Uint8Array): string | undefined {
  for (let i = 0; i + 4 <= bytes.length; i++) {
    if (bytes[i] === 0xe0 && bytes[i + 1] === 0x7f && bytes[i + 3] === 0x00 && (bytes[i + 2] === 0x08 || bytes[i + 2] === 0x09)) return bytes[i + 2] === 0x08 ? 'x7fe00008' : 'x7fe00009';
    if (bytes[i] === 0x7f && bytes[i + 1] === 0xe0 && bytes[i + 2] === 0x00 && (bytes[i + 3] === 0x08 || bytes[i + 3] === 0x09)) return bytes[i + 3] === 0x08 ? 'x7fe00008' : 'x7fe00009';
  }
  return undefined;
}
