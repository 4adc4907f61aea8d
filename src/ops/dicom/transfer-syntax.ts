/** Transfer syntax UIDs we know, how their pixel data is encoded, and whether we decode them. */
export type PixelCodec =
  | 'native'
  | 'native-big-endian'
  | 'rle'
  | 'jpeg-baseline'
  | 'jpeg-extended'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg-2000'
  | 'unsupported';

export interface TransferSyntax {
  uid: string;
  name: string;
  codec: PixelCodec;
  explicitVR: boolean;
  littleEndian: boolean;
  deflated?: boolean;
  encapsulated: boolean;
}

const ts = (uid: string, name: string, codec: PixelCodec, extra: Partial<TransferSyntax> = {}): TransferSyntax => ({
  uid,
  name,
  codec,
  explicitVR: true,
  littleEndian: true,
  encapsulated: codec !== 'native' && codec !== 'native-big-endian',
  ...extra,
});

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';

export const TRANSFER_SYNTAXES: readonly TransferSyntax[] = [
  ts(IMPLICIT_VR_LITTLE_ENDIAN, 'Implicit VR Little Endian', 'native', { explicitVR: false }),
  ts(EXPLICIT_VR_LITTLE_ENDIAN, 'Explicit VR Little Endian', 'native'),
  ts('1.2.840.10008.1.2.1.99', 'Deflated Explicit VR Little Endian', 'native', { deflated: true }),
  ts(EXPLICIT_VR_BIG_ENDIAN, 'Explicit VR Big Endian', 'native-big-endian', { littleEndian: false }),
  ts('1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)', 'jpeg-baseline'),
  ts('1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 & 4)', 'jpeg-extended'),
  ts('1.2.840.10008.1.2.4.57', 'JPEG Lossless, Non-Hierarchical (Process 14)', 'jpeg-lossless'),
  ts('1.2.840.10008.1.2.4.70', 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 SV1)', 'jpeg-lossless'),
  ts('1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless', 'jpeg-ls'),
  ts('1.2.840.10008.1.2.4.81', 'JPEG-LS Lossy (Near-Lossless)', 'jpeg-ls'),
  ts('1.2.840.10008.1.2.4.90', 'JPEG 2000 (Lossless Only)', 'jpeg-2000'),
  ts('1.2.840.10008.1.2.4.91', 'JPEG 2000', 'jpeg-2000'),
  ts('1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 (Lossless Only)', 'unsupported'),
  ts('1.2.840.10008.1.2.4.202', 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)', 'unsupported'),
  ts('1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000', 'unsupported'),
  ts('1.2.840.10008.1.2.5', 'RLE Lossless', 'rle'),
  ts('1.2.840.10008.1.2.4.52', 'JPEG Extended (Process 3 & 5) (retired)', 'unsupported'),
  ts('1.2.840.10008.1.2.4.53', 'JPEG Spectral Selection, Non-Hierarchical (retired)', 'unsupported'),
  ts('1.2.840.10008.1.2.4.55', 'JPEG Full Progression, Non-Hierarchical (retired)', 'unsupported'),
  ts('1.2.840.10008.1.2.4.92', 'JPEG 2000 Part 2 Multi-component (Lossless Only)', 'unsupported'),
  ts('1.2.840.10008.1.2.4.93', 'JPEG 2000 Part 2 Multi-component', 'unsupported'),
  ts('1.2.840.10008.1.2.4.94', 'JPIP Referenced', 'unsupported'),
  ts('1.2.840.10008.1.2.4.95', 'JPIP Referenced Deflate', 'unsupported'),
  ts('1.2.840.10008.1.2.4.100', 'MPEG2 Main Profile @ Main Level', 'unsupported'),
  ts('1.2.840.10008.1.2.4.102', 'MPEG-4 AVC/H.264 High Profile', 'unsupported'),
  ts('1.2.840.10008.1.2.4.110', 'JPEG XL Lossless', 'unsupported'),
  ts('1.2.840.10008.1.2.4.112', 'JPEG XL', 'unsupported'),
];

const byUid = new Map(TRANSFER_SYNTAXES.map((t) => [t.uid, t]));

/** The transfer syntax for a UID; an unknown UID is described as unsupported (never guessed). */
export function transferSyntax(uid: string): TransferSyntax {
  const clean = uid.replace(/\0/g, '').trim();
  return byUid.get(clean) ?? ts(clean, `unknown transfer syntax ${clean}`, 'unsupported');
}

export function isSupported(uid: string): boolean {
  return transferSyntax(uid).codec !== 'unsupported';
}
