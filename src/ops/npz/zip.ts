import { constants } from 'node:buffer';
import { inflateRawSync } from 'node:zlib';
import { errorText } from '../../util/error-text.ts';
import { bufferSource, subSource, type ByteSource } from './byte-source.ts';

/** A malformed archive: `where` names the member (or the archive part) at fault. */
export class ZipFormatError extends Error {
  constructor(readonly where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = 'ZipFormatError';
  }
}

const EOCD = 0x06054b50;
const ZIP64_EOCD = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;

interface Entry {
  name: string;
  method: number;
  compressed: number;
  size: number;
  offset: number;
}

/**
 * The members of a zip archive (what numpy's `savez` / `savez_compressed` write: stored or deflated
 * members, zip64 fields as numpy forces them), read through the central directory. Names map to their
 * uncompressed bytes: a stored member is a view of the archive (read from disk where needed, so an
 * archive larger than memory works), a deflated one is inflated in memory, only when `wanted` accepts
 * its name.
 */
export function readZip(source: ByteSource, wanted: (name: string) => boolean = () => true): Map<string, ByteSource> {
  const entries = centralDirectory(source);
  const out = new Map<string, ByteSource>();
  for (const e of entries) {
    if (!wanted(e.name)) continue;
    const local = source.read(e.offset, e.offset + 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL) throw new ZipFormatError(e.name, `no local header at offset ${e.offset} (truncated or not a zip file)`);
    const start = e.offset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (start + e.compressed > source.length) throw new ZipFormatError(e.name, `data runs past the end of the file (${start + e.compressed} > ${source.length} bytes): truncated`);
    let data: ByteSource;
    if (e.method === STORED) data = subSource(source, start, e.compressed);
    else if (e.method === DEFLATED) {
      if (e.size > constants.MAX_LENGTH || e.compressed > constants.MAX_LENGTH) {
        throw new ZipFormatError(e.name, `deflated member of ${e.size} bytes is too large to inflate in memory (at most ${constants.MAX_LENGTH}): save the archive uncompressed (np.savez, as MedMNIST's files are)`);
      }
      try {
        data = bufferSource(inflateRawSync(source.read(start, start + e.compressed)));
      } catch (err) {
        throw new ZipFormatError(e.name, `deflated data is corrupt (${errorText(err)})`);
      }
    } else throw new ZipFormatError(e.name, `compression method ${e.method} is not supported (only stored and deflate, what numpy writes)`);
    if (data.length !== e.size) throw new ZipFormatError(e.name, `${data.length} bytes after decompression, the directory says ${e.size}`);
    out.set(e.name, data);
  }
  return out;
}

/** The member names of a zip archive, in directory order. */
export function zipNames(source: ByteSource): string[] {
  return centralDirectory(source).map((e) => e.name);
}

function centralDirectory(source: ByteSource): Entry[] {
  const eocd = findEocd(source);
  const end = source.read(eocd, eocd + 22);
  let count = end.readUInt16LE(10);
  let size = end.readUInt32LE(12);
  let offset = end.readUInt32LE(16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const locator = eocd - 20 >= 0 ? source.read(eocd - 20, eocd) : Buffer.alloc(0);
    if (locator.length < 20 || locator.readUInt32LE(0) !== ZIP64_LOCATOR) throw new ZipFormatError('central directory', 'zip64 sizes without a zip64 locator');
    const at = readUInt64(locator, 8, 'zip64 end record offset');
    const record = source.read(at, at + 56);
    if (record.length < 56 || record.readUInt32LE(0) !== ZIP64_EOCD) throw new ZipFormatError('central directory', 'zip64 end record missing');
    count = readUInt64(record, 32, 'entry count');
    size = readUInt64(record, 40, 'directory size');
    offset = readUInt64(record, 48, 'directory offset');
  }
  if (offset + size > source.length) throw new ZipFormatError('central directory', `runs past the end of the file (offset ${offset} + ${size} > ${source.length} bytes)`);
  const bytes = source.read(offset, offset + size);
  const entries: Entry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > bytes.length || bytes.readUInt32LE(p) !== CENTRAL) throw new ZipFormatError('central directory', `entry ${i} is not a directory record`);
    const nameLength = bytes.readUInt16LE(p + 28);
    const extraLength = bytes.readUInt16LE(p + 30);
    const commentLength = bytes.readUInt16LE(p + 32);
    const name = bytes.toString('utf8', p + 46, p + 46 + nameLength);
    const entry: Entry = { name, method: bytes.readUInt16LE(p + 10), compressed: bytes.readUInt32LE(p + 20), size: bytes.readUInt32LE(p + 24), offset: bytes.readUInt32LE(p + 42) };
    applyZip64Extra(entry, bytes.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength));
    entries.push(entry);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The end-of-central-directory record's offset: the last 22 bytes, or earlier when an archive comment follows. */
function findEocd(source: ByteSource): number {
  const from = Math.max(0, source.length - 22 - 0xffff);
  const tail = source.read(from, source.length);
  for (let p = tail.length - 22; p >= 0; p--) {
    if (tail.readUInt32LE(p) === EOCD) return from + p;
  }
  throw new ZipFormatError('archive', `no end-of-central-directory record in ${source.length} bytes: not a zip file (an .npz is one) or truncated`);
}

/** Zip64 extended information (header id 1): the 64-bit values of the fields set to 0xffffffff, in order. */
function applyZip64Extra(entry: Entry, extra: Buffer): void {
  for (let p = 0; p + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(p);
    const length = extra.readUInt16LE(p + 2);
    if (id === 1) {
      let q = p + 4;
      const next = (what: string) => {
        if (q + 8 > p + 4 + length) throw new ZipFormatError(entry.name, `zip64 extra field lacks the ${what}`);
        const v = readUInt64(extra, q, what);
        q += 8;
        return v;
      };
      if (entry.size === 0xffffffff) entry.size = next('size');
      if (entry.compressed === 0xffffffff) entry.compressed = next('compressed size');
      if (entry.offset === 0xffffffff) entry.offset = next('header offset');
    }
    p += 4 + length;
  }
}

function readUInt64(bytes: Buffer, at: number, what: string): number {
  const v = bytes.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError('archive', `${what} ${v} is out of range`);
  return Number(v);
}
