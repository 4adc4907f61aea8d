import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSource } from '../../../src/ops/npz/byte-source.ts';
import { readMedmnistNpz } from '../../../src/ops/npz/medmnist-npz.ts';

/** A .npy v1 header for a uint8 C-order array of `shape`, padded to 64 bytes as numpy does. */
function npyHeader(shape: number[]): Buffer {
  let dict = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  dict += ' '.repeat(63 - ((10 + dict.length) % 64)) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1')]);
}

/** A little-endian record of `size` bytes with [offset, width (2 or 4), value] fields set, the rest 0. */
function fields(size: number, values: Array<[number, 2 | 4, number]>): Buffer {
  const b = Buffer.alloc(size);
  for (const [at, width, v] of values) (width === 2 ? b.writeUInt16LE(v, at) : b.writeUInt32LE(v, at));
  return b;
}

/**
 * A zip64 archive of stored members as numpy's savez writes it, written sparsely: a member's data is a
 * hole in the file except where `patches` put bytes, so a 4.5 GB archive takes no disk space.
 */
function writeSparseNpz(path: string, members: Array<{ name: string; header: Buffer; size: number; patches: Array<[number, Buffer]> }>): void {
  const fd = openSync(path, 'w');
  const central: Buffer[] = [];
  let at = 0;
  const u64 = (v: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    return b;
  };
  for (const m of members) {
    const name = Buffer.from(m.name);
    const total = m.header.length + m.size;
    const local = fields(30, [[0, 4, 0x04034b50], [4, 2, 45], [18, 4, 0xffffffff], [22, 4, 0xffffffff], [26, 2, name.length], [28, 2, 20]]);
    const localExtra = Buffer.concat([Buffer.from([1, 0, 16, 0]), u64(total), u64(total)]);
    const head = Buffer.concat([local, name, localExtra, m.header]);
    writeSync(fd, head, 0, head.length, at);
    const dataAt = at + head.length;
    for (const [offset, bytes] of m.patches) writeSync(fd, bytes, 0, bytes.length, dataAt + offset);
    const entry = fields(46, [[0, 4, 0x02014b50], [4, 2, 45], [6, 2, 45], [20, 4, 0xffffffff], [24, 4, 0xffffffff], [28, 2, name.length], [30, 2, 28], [42, 4, 0xffffffff]]);
    central.push(Buffer.concat([entry, name, Buffer.from([1, 0, 24, 0]), u64(total), u64(total), u64(at)]));
    at = dataAt + m.size;
  }
  const directory = Buffer.concat(central);
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeBigUInt64LE(BigInt(members.length), 24);
  record.writeBigUInt64LE(BigInt(members.length), 32);
  record.writeBigUInt64LE(BigInt(directory.length), 40);
  record.writeBigUInt64LE(BigInt(at), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(at + directory.length), 8);
  locator.writeUInt32LE(1, 16);
  const end = fields(22, [[0, 4, 0x06054b50], [8, 2, 0xffff], [10, 2, 0xffff], [12, 4, 0xffffffff], [16, 4, 0xffffffff]]);
  const tail = Buffer.concat([directory, record, locator, end]);
  writeSync(fd, tail, 0, tail.length, at);
  closeSync(fd);
}

test('an .npz larger than a Node buffer (MedMNIST+ at 224 px: up to 16 GB) is read from disk where needed, not loaded: it failed with "File size ... is greater than 2 GiB"', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'large-npz-'));
  try {
    const n = 90_000; // 90,000 x 224 x 224 = 4.5 GB of pixels: past 2 GiB (readFile) and 4 GiB (32-bit zip offsets)
    const pixels = 224 * 224;
    const labels = Buffer.from(Array.from({ length: n }, (_, i) => i % 7));
    const path = join(dir, 'organamnist_224.npz');
    writeSparseNpz(path, [
      { name: 'train_images.npy', header: npyHeader([n, 224, 224]), size: n * pixels, patches: [[0, Buffer.from([11])], [(n - 1) * pixels + pixels - 1, Buffer.from([77])], [4_300_000_123, Buffer.from([200])]] },
      { name: 'train_labels.npy', header: npyHeader([n, 1]), size: n, patches: [[0, labels]] },
    ]);
    const source = fileSource(path);
    try {
      assert.ok(source.length > 2 ** 32, `${source.length} bytes`);
      const npz = readMedmnistNpz(source);
      assert.deepEqual([npz.kind, npz.classCount, npz.width, npz.height, npz.channels], ['multiclass', 7, 224, 224, 1]);
      const [train] = npz.parts;
      assert.deepEqual([train.split, train.count], ['train', n]);
      assert.equal(train.pixelsOf(0)[0], 11);
      const last = train.pixelsOf(n - 1);
      assert.deepEqual([last.length, last[0], last[pixels - 1]], [pixels, 0, 77]);
      const beyond = Math.floor(4_300_000_123 / pixels); // an image past the 4 GiB mark
      assert.equal(train.pixelsOf(beyond)[4_300_000_123 % pixels], 200);
      assert.deepEqual([train.labelsOf(0), train.labelsOf(n - 1)], [[0], [(n - 1) % 7]]);
    } finally {
      source.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
