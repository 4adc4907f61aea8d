import type { DicomHeader } from '../../../src/ops/dicom/parse.ts';
import { transferSyntax } from '../../../src/ops/dicom/transfer-syntax.ts';

/** A 1x4 single-frame explicit-LE MONOCHROME2 header; `extra` overrides any field. */
export function testHeader(extra: Partial<DicomHeader>): DicomHeader {
  return {
    transferSyntax: transferSyntax('1.2.840.10008.1.2.1'),
    inferredTransferSyntax: false,
    rows: 1,
    columns: 4,
    bitsAllocated: 8,
    bitsStored: 8,
    highBit: 7,
    pixelRepresentation: 0,
    samplesPerPixel: 1,
    planarConfiguration: 0,
    photometric: 'MONOCHROME2',
    frames: 1,
    windowCenters: [],
    windowWidths: [],
    voiLuts: [],
    sampleType: 'integer',
    ...extra,
  };
}
