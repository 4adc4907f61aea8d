import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Random access to the bytes of an archive: a file on disk read where needed (MedMNIST+ archives reach
 * 16 GB at 224 px, past what one Node buffer or `readFile` holds), or a buffer in memory.
 */
export interface ByteSource {
  readonly length: number;
  /** Bytes [from, to): a view of a buffer, a fresh copy from a file. */
  read(from: number, to: number): Buffer;
}

export function bufferSource(bytes: Buffer): ByteSource {
  return { length: bytes.length, read: (from, to) => bytes.subarray(from, to) };
}

/** `length` bytes of `source` from `offset` on, as a source of its own. */
export function subSource(source: ByteSource, offset: number, length: number): ByteSource {
  return { length, read: (from, to) => source.read(offset + from, offset + Math.min(to, length)) };
}

/** A file opened for reading; `close()` when done. */
export function fileSource(path: string): ByteSource & { close(): void } {
  const fd = openSync(path, 'r');
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    throw new Error(`${path} is not a file`);
  }
  const length = stat.size;
  return {
    length,
    read(from, to) {
      const out = Buffer.allocUnsafe(Math.max(0, Math.min(to, length) - from));
      for (let done = 0; done < out.length; ) {
        const n = readSync(fd, out, done, out.length - done, from + done);
        if (n === 0) return out.subarray(0, done);
        done += n;
      }
      return out;
    },
    close: () => closeSync(fd),
  };
}
