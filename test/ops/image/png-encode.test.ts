import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { decodeGrey } from '../../../src/ops/image/png.ts';
import { encodeGreyPng, paethRows } from '../../../src/ops/image/png-encode.ts';
import { tableCrc32 } from '../../../src/ops/image/png-crc.ts';
import type { Image } from '../../../src/ops/image/image.ts';
import { seededRandom } from '../../../src/util/random.ts';
import { synthetic } from './helpers.ts';

const REF = new URL('../../fixtures/dicom/ref/', import.meta.url);

function noise(width: number, height: number, bits: 8 | 16, seed: number): Image {
  const random = seededRandom(seed);
  const data = bits === 16 ? new Uint16Array(width * height) : new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(random() * (bits === 16 ? 65536 : 256));
  return { data, width, height, channels: 1 };
}

test('PNG encoder: libspng (sharp) decodes every level, 8- and 16-bit, odd sizes, to the same pixels', async () => {
  const images = [synthetic(37, 23, 8), synthetic(37, 23, 16), noise(1, 1, 8, 1), noise(1, 9, 16, 2), noise(9, 1, 8, 3), noise(64, 48, 16, 4), noise(64, 48, 8, 5)];
  for (const image of images) {
    for (const level of [0, 1, 2, 6, 9]) {
      const png = encodeGreyPng(image, level);
      assert.equal(png.byteOffset, 0);
      assert.equal(png.byteLength, png.buffer.byteLength, 'the PNG owns its whole ArrayBuffer (transferable)');
      const meta = await sharp(png).metadata();
      assert.equal(meta.depth, image.data instanceof Uint16Array ? 'ushort' : 'uchar');
      assert.equal(meta.channels, 1);
      const back = await decodeGrey(png);
      assert.deepEqual([back.width, back.height], [image.width, image.height]);
      assert.deepEqual(back.data, image.data, `${image.width}x${image.height} ${image.data.constructor.name} level ${level}`);
    }
  }
});

/** The Paeth filter as PNG spec 9.4 writes it, branch by branch. */
function paethReference(src: Uint8Array, rowBytes: number, height: number, bpp: number): Uint8Array {
  const out = new Uint8Array(height * (rowBytes + 1));
  for (let y = 0; y < height; y++) {
    out[y * (rowBytes + 1)] = y === 0 ? 1 : 4;
    for (let x = 0; x < rowBytes; x++) {
      const a = x >= bpp ? src[y * rowBytes + x - bpp] : 0;
      const b = y > 0 ? src[(y - 1) * rowBytes + x] : 0;
      const c = x >= bpp && y > 0 ? src[(y - 1) * rowBytes + x - bpp] : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const predictor = y === 0 ? a : pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      out[y * (rowBytes + 1) + 1 + x] = (src[y * rowBytes + x] - predictor) & 255;
    }
  }
  return out;
}

test('PNG encoder: branch-free Paeth rows equal the specification\'s predictor (random and extreme bytes, 1 and 2 bytes per pixel)', () => {
  const random = seededRandom(9);
  for (const [rowBytes, height, bpp] of [[40, 30, 1], [80, 30, 2], [1, 5, 1], [2, 5, 2], [7, 1, 1]]) {
    const src = new Uint8Array(rowBytes * height);
    for (let i = 0; i < src.length; i++) src[i] = random() < 0.3 ? (random() < 0.5 ? 0 : 255) : Math.floor(random() * 256);
    assert.deepEqual(paethRows(src, rowBytes, height, bpp), paethReference(src, rowBytes, height, bpp), `${rowBytes}x${height} bpp ${bpp}`);
  }
});

test('PNG encoder: the table CRC-32 (for Node < 20.15) is the PNG/zlib CRC', () => {
  assert.equal(tableCrc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  const zlibCrc32 = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  const bytes = noise(300, 7, 8, 11).data as Uint8Array;
  if (zlibCrc32) assert.equal(tableCrc32(bytes), zlibCrc32(bytes) >>> 0);
});

test('PNG encoder: on real radiographs level 1 (run-length) writes smaller files than libpng-style adaptive filtering at zlib 6 (sharp) and at most 1% larger than level 6', async () => {
  for (const name of ['fo-dicom__CT1_J2KI.png', 'pydicom-data__MR2_UNCI.png', 'fo-dicom__CR-MONO1-10-chest.png']) {
    const image = await decodeGrey(readFileSync(new URL(name, REF)));
    const rle = encodeGreyPng(image, 1).length;
    const lz77 = encodeGreyPng(image, 6).length;
    const adaptive = (await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 1 } }).png({ compressionLevel: 6, adaptiveFiltering: true }).toBuffer()).length;
    assert.ok(rle <= lz77 * 1.01 && rle < adaptive, `${name}: level 1 ${rle} B, level 6 ${lz77} B, sharp adaptive 6 ${adaptive} B`);
  }
});
