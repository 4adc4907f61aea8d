import { inflateRawSync } from 'node:zlib';
import { errorText } from '../../util/error-text.ts';

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
 * members, zip64 fields as numpy forces them), read through the central directory. Names map to
 * their uncompressed bytes; a member is inflated only when `wanted` accepts its name.
 */
export function readZip(bytes: Buffer, wanted: (name: string) => boolean = () => true): Map<string, Buffer> {
  const entries = centralDirectory(bytes);
  const out = new Map<string, Buffer>();
  for (const e of entries) {
    if (!wanted(e.name)) continue;
    if (e.offset + 30 > bytes.length || bytes.readUInt32LE(e.offset) !== LOCAL) throw new ZipFormatError(e.name, `no local header at offset ${e.offset} (truncated or not a zip file)`);
    const start = e.offset + 30 + bytes.readUInt16LE(e.offset + 26) + bytes.readUInt16LE(e.offset + 28);
    if (start + e.compressed > bytes.length) throw new ZipFormatError(e.name, `data runs past the end of the file (${start + e.compressed} > ${bytes.length} bytes): truncated`);
    const raw = bytes.subarray(start, start + e.compressed);
    let data: Buffer;
    if (e.method === STORED) data = raw;
    else if (e.method === DEFLATED) {
      try {
        data = inflateRawSync(raw);
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
export function zipNames(bytes: Buffer): string[] {
  return centralDirectory(bytes).map((e) => e.name);
}

function centralDirectory(bytes: Buffer): Entry[] {
  const eocd = findEocd(bytes);
  let count = bytes.readUInt16LE(eocd + 10);
  let size = bytes.readUInt32LE(eocd + 12);
  let offset = bytes.readUInt32LE(eocd + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || bytes.readUInt32LE(locator) !== ZIP64_LOCATOR) throw new ZipFormatError('central directory', 'zip64 sizes without a zip64 locator');
    const at = readUInt64(bytes, locator + 8, 'zip64 end record offset');
    if (at + 56 > bytes.length || bytes.readUInt32LE(at) !== ZIP64_EOCD) throw new ZipFormatError('central directory', 'zip64 end record missing');
    count = readUInt64(bytes, at + 32, 'entry count');
    size = readUInt64(bytes, at + 40, 'directory size');
    offset = readUInt64(bytes, at + 48, 'directory offset');
  }
  if (offset + size > bytes.length) throw new ZipFormatError('central directory', `runs past the end of the file (offset ${offset} + ${size} > ${bytes.length} bytes)`);
  const entries: Entry[] = [];
  let p = offset;
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

/** The end-of-central-directory record: the last 22 bytes, or earlier when an archive comment follows. */
function findEocd(bytes: Buffer): number {
  for (let p = bytes.length - 22; p >= Math.max(0, bytes.length - 22 - 0xffff); p--) {
    if (bytes.readUInt32LE(p) === EOCD) return p;
  }
  throw new ZipFormatError('archive', `no end-of-central-directory record in ${bytes.length} bytes: not a zip file (an .npz is one) or truncated`);
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
