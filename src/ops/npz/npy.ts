import { subSource, type ByteSource } from './byte-source.ts';

/** A malformed .npy array: `key` is its name in the .npz (or the file name). */
export class NpyFormatError extends Error {
  constructor(readonly key: string, message: string) {
    super(`${key}: ${message}`);
    this.name = 'NpyFormatError';
  }
}

/** The numeric dtypes read here (little-endian or single-byte), as numpy's `descr` writes them. */
const DTYPES: Record<string, { bytes: number; read: (b: Buffer, at: number) => number }> = {
  u1: { bytes: 1, read: (b, at) => b[at] },
  i1: { bytes: 1, read: (b, at) => b.readInt8(at) },
  b1: { bytes: 1, read: (b, at) => b[at] },
  u2: { bytes: 2, read: (b, at) => b.readUInt16LE(at) },
  i2: { bytes: 2, read: (b, at) => b.readInt16LE(at) },
  u4: { bytes: 4, read: (b, at) => b.readUInt32LE(at) },
  i4: { bytes: 4, read: (b, at) => b.readInt32LE(at) },
  u8: { bytes: 8, read: (b, at) => Number(b.readBigUInt64LE(at)) },
  i8: { bytes: 8, read: (b, at) => Number(b.readBigInt64LE(at)) },
  f4: { bytes: 4, read: (b, at) => b.readFloatLE(at) },
  f8: { bytes: 8, read: (b, at) => b.readDoubleLE(at) },
};

export interface NpyArray {
  key: string;
  /** numpy's type code without the byte order: u1, i8, f4, ... */
  dtype: string;
  shape: number[];
  /** The raw C-order element bytes (read where needed: an image array may be larger than memory). */
  data: ByteSource;
}

/** An array whose elements are in memory (the label arrays: small, and read element by element). */
export interface LoadedNpy extends Omit<NpyArray, 'data'> {
  data: Buffer;
}

/**
 * One array in numpy's .npy format (versions 1-3): the magic, a header dict with `descr`, `fortran_order`
 * and `shape`, then the elements. Only C-order numeric arrays of the dtypes above; object (pickled),
 * structured, string and big-endian arrays are refused with the reason.
 */
export function parseNpy(source: ByteSource, key: string): NpyArray {
  const lead = source.read(0, 12);
  if (lead.length < 10 || lead[0] !== 0x93 || lead.toString('latin1', 1, 6) !== 'NUMPY') throw new NpyFormatError(key, 'not a .npy array (no \\x93NUMPY magic)');
  const major = lead[6];
  if (major < 1 || major > 3) throw new NpyFormatError(key, `.npy format version ${major}.${lead[7]} is not supported (1-3 are)`);
  const headerLength = major === 1 ? lead.readUInt16LE(8) : lead.length >= 12 ? lead.readUInt32LE(8) : NaN;
  const start = (major === 1 ? 10 : 12) + headerLength;
  if (!(start <= source.length)) throw new NpyFormatError(key, 'header runs past the end of the array: truncated');
  const bytes = source.read(0, start);
  const header = bytes.toString(major === 3 ? 'utf8' : 'latin1', major === 1 ? 10 : 12, start);
  const descr = header.match(/'descr'\s*:\s*'([^']*)'/)?.[1];
  const fortran = header.match(/'fortran_order'\s*:\s*(True|False)/)?.[1];
  const shapeText = header.match(/'shape'\s*:\s*\(([^)]*)\)/)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new NpyFormatError(key, `header ${JSON.stringify(header.trim())} lacks descr, fortran_order or shape (a structured or object array?)`);
  if (fortran === 'True') throw new NpyFormatError(key, 'Fortran-order arrays are not supported: save with np.ascontiguousarray(a)');
  const order = descr[0];
  const dtype = descr.slice(1);
  const type = DTYPES[dtype];
  if (!type || !(order === '<' || order === '|' || (order === '>' && type.bytes === 1))) throw new NpyFormatError(key, `dtype ${descr} is not supported (little-endian integers, booleans and floats are)`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    const n = Number(s.replace(/L$/, ''));
    if (!Number.isInteger(n) || n < 0) throw new NpyFormatError(key, `shape (${shapeText}) is not a tuple of sizes`);
    return n;
  });
  const expected = shape.reduce((a, b) => a * b, 1) * type.bytes;
  const held = source.length - start;
  if (held !== expected) throw new NpyFormatError(key, `shape (${shape.join(', ')}) of ${descr} needs ${expected} bytes, the array holds ${held}${held < expected ? ': truncated' : ''}`);
  return { key, dtype, shape, data: subSource(source, start, held) };
}

/** The array with its elements read into memory. */
export function loadNpy(array: NpyArray): LoadedNpy {
  return { ...array, data: array.data.read(0, array.data.length) };
}

/** Element `i` (flat, C order) of a numeric array as a JavaScript number. */
export function elementAt(array: LoadedNpy, i: number): number {
  const type = DTYPES[array.dtype];
  return type.read(array.data, i * type.bytes);
}
