import { open } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import type dicomParser from 'dicom-parser';
import { DicomParseError, floatPixelTag, readDataSet, type ReadDataSet } from './dataset.ts';
import { errorText } from '../../util/error-text.ts';

const PIXEL_DATA = 'x7fe00010';
const DEFLATED = '1.2.840.10008.1.2.1.99';
const FIRST_READ = 64 * 1024;
const MAX_HEADER = 64 * 1024 * 1024;

/** Header facts ingest keeps. `patientId`/`patientName` are raw PHI: pseudonymise before they leave the stage. */
export interface DicomFileHeader {
  transferSyntax: string;
  sopClassUid?: string;
  sopInstanceUid?: string;
  studyUid?: string;
  seriesUid?: string;
  modality?: string;
  viewPosition?: string;
  photometric?: string;
  rows?: number;
  columns?: number;
  bitsAllocated?: number;
  bitsStored?: number;
  pixelRepresentation?: number;
  frames: number;
  pixelSpacing?: number[];
  windowCenter?: number[];
  windowWidth?: number[];
  rescaleSlope?: number;
  rescaleIntercept?: number;
  patientId?: string;
  patientName?: string;
}

/** A file ingest must skip; the message says why (no path, no PHI). */
export class DicomFileError extends Error {}

/**
 * Reads a DICOM file's header up to the Pixel Data element without loading the pixels (bounded
 * memory: 64 KiB first, more only for large headers; deflated files are inflated whole), and checks
 * that the pixel data is present and complete.
 */
export async function readDicomFileHeader(path: string): Promise<DicomFileHeader> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size < 8) throw new DicomFileError(`too short for DICOM (${size} bytes)`);
    let length = Math.min(size, FIRST_READ);
    for (;;) {
      const bytes = await readAt(fh, 0, length);
      if (length < size && isDeflated(bytes)) {
        length = size; // a deflated data set is inflated whole
        continue;
      }
      let read: ReadDataSet;
      try {
        read = readDataSet(bytes, { untilTag: floatPixelTag(bytes) ?? PIXEL_DATA, inflater: inflate });
      } catch (err) {
        if (err instanceof DicomParseError && err.message.startsWith('not a DICOM file')) throw new DicomFileError(err.message);
        if (length < size && length < MAX_HEADER) {
          length = Math.min(size, length * 4);
          continue;
        }
        throw new DicomFileError(`truncated or corrupt header: ${errorText(err).replace(/^cannot parse DICOM \(truncated or corrupt\?\): /, '')}`);
      }
      const dataSet = read.dataSet;
      const header = extract(dataSet, read.transferSyntaxUid);
      const pixel = dataSet.elements[PIXEL_DATA] ?? dataSet.elements.x7fe00008 ?? dataSet.elements.x7fe00009;
      if (!pixel) throw new DicomFileError('no Pixel Data element (nor Float / Double Float Pixel Data)');
      if (read.fileOffset === undefined) {
        if (!pixel.hadUndefinedLength && pixel.dataOffset + pixel.length > dataSet.byteArray.length) throw new DicomFileError('truncated: pixel data is shorter than its declared length');
      } else if (pixel.hadUndefinedLength) {
        await checkFragments(fh, pixel.dataOffset + read.fileOffset, size);
      } else if (pixel.dataOffset + read.fileOffset + pixel.length > size) {
        throw new DicomFileError(`truncated: pixel data declares ${pixel.length} bytes, file has ${size - pixel.dataOffset - read.fileOffset}`);
      }
      return header;
    }
  } finally {
    await fh.close();
  }
}

function isDeflated(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 4096)).includes(DEFLATED);
}

/** Walks the item headers of encapsulated pixel data (8 bytes each) up to the sequence delimiter. */
async function checkFragments(fh: import('node:fs/promises').FileHandle, start: number, size: number): Promise<void> {
  let position = start;
  while (position + 8 <= size) {
    const item = await readAt(fh, position, 8);
    const group = item.readUInt16LE(0);
    const element = item.readUInt16LE(2);
    if (group === 0xfffe && element === 0xe0dd) return;
    if (group !== 0xfffe || element !== 0xe000) throw new DicomFileError(`corrupt encapsulated pixel data: unexpected tag at byte ${position}`);
    position += 8 + item.readUInt32LE(4);
  }
  throw new DicomFileError('truncated: encapsulated pixel data ends before its sequence delimiter');
}

async function readAt(fh: import('node:fs/promises').FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

function inflate(bytes: Uint8Array, position: number): Uint8Array {
  const inflated = inflateRawSync(bytes.subarray(position));
  const out = Buffer.alloc(position + inflated.length);
  out.set(bytes.subarray(0, position));
  out.set(inflated, position);
  return out;
}

function extract(ds: dicomParser.DataSet, transferSyntax: string): DicomFileHeader {
  const str = (tag: string) => {
    try {
      const v = ds.string(tag)?.trim();
      return v ? v : undefined;
    } catch {
      return undefined;
    }
  };
  const nums = (tag: string) => {
    const v = str(tag);
    if (!v) return undefined;
    const list = v.split('\\').map(Number).filter(Number.isFinite);
    return list.length ? list : undefined;
  };
  const us = (tag: string) => (ds.elements[tag] ? ds.uint16(tag) : undefined);
  return {
    transferSyntax,
    sopClassUid: str('x00080016'),
    sopInstanceUid: str('x00080018'),
    studyUid: str('x0020000d'),
    seriesUid: str('x0020000e'),
    modality: str('x00080060'),
    viewPosition: str('x00185101'),
    photometric: str('x00280004'),
    rows: us('x00280010'),
    columns: us('x00280011'),
    bitsAllocated: us('x00280100'),
    bitsStored: us('x00280101'),
    pixelRepresentation: us('x00280103'),
    frames: Number(str('x00280008') ?? 1) || 1,
    pixelSpacing: nums('x00280030') ?? nums('x00181164'),
    windowCenter: nums('x00281050'),
    windowWidth: nums('x00281051'),
    rescaleSlope: nums('x00281053')?.[0],
    rescaleIntercept: nums('x00281052')?.[0],
    patientId: str('x00100020'),
    patientName: str('x00100010'),
  };
}
