import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { decodeGrey, decodeGreyWithSharp } from '../../../src/ops/image/png.ts';
import { decodePlainGreyPng } from '../../../src/ops/image/png-decode.ts';
import { encodeGreyPng } from '../../../src/ops/image/png-encode.ts';
import type { Image } from '../../../src/ops/image/image.ts';
import { seededRandom } from '../../../src/util/random.ts';
import { synthetic } from './helpers.ts';

const REF = new URL('../../fixtures/dicom/ref/', import.meta.url);

function noise(width: number, height: number, bits: 8 | 16, seed: number): Image {
  const random = seededRandom(seed);
  const data = bits === 16 ? new Uint16Array(width * height) : new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = random() < 0.2 ? 0 : Math.floor(random() * (bits === 16 ? 65536 : 256));
  return { data, width, height, channels: 1 };
}

const sharpPng = (image: Image, options: { compressionLevel: number; adaptiveFiltering: boolean }) =>
  sharp(image.data, { raw: { width: image.width, height: image.height, channels: 1 } }).toColourspace(image.data instanceof Uint16Array ? 'grey16' : 'b-w').png(options).toBuffer();

/** The row filter types a PNG uses (one per row), read by inflating its IDAT chunks. */
function filterTypes(png: Uint8Array, rowBytes: number): Set<number> {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const parts: Uint8Array[] = [];
  for (let at = 8; at < png.length; at += 12 + view.getUint32(at)) if (String.fromCharCode(...png.subarray(at + 4, at + 8)) === 'IDAT') parts.push(png.subarray(at + 8, at + 8 + view.getUint32(at)));
  const rows = inflateSync(Buffer.concat(parts));
  const types = new Set<number>();
  for (let at = 0; at < rows.length; at += rowBytes + 1) types.add(rows[at]);
  return types;
}

test('in-process PNG decode: the same samples as sharp for real radiographs and for 8- and 16-bit PNGs with every row filter', async () => {
  const pngs: Array<{ name: string; png: Uint8Array; rowBytes: number }> = [];
  for (const name of readdirSync(REF).filter((f) => f.endsWith('.png'))) {
    const png = readFileSync(new URL(name, REF));
    const meta = await sharp(png).metadata();
    pngs.push({ name, png, rowBytes: meta.width! * (meta.depth === 'ushort' ? 2 : 1) });
  }
  const images = [synthetic(37, 23, 8), synthetic(64, 40, 16, 2), noise(1, 1, 8, 1), noise(1, 7, 16, 2), noise(9, 1, 8, 3), noise(61, 47, 8, 4), noise(61, 47, 16, 5)];
  for (const [i, image] of images.entries()) {
    const rowBytes = image.width * (image.data instanceof Uint16Array ? 2 : 1);
    for (const level of [0, 1, 6]) pngs.push({ name: `image ${i}, ours level ${level}`, png: encodeGreyPng(image, level), rowBytes });
    // libpng-style adaptive filtering (sharp/libspng) picks among all five filters per row
    pngs.push({ name: `image ${i}, sharp adaptive`, png: await sharpPng(image, { compressionLevel: 6, adaptiveFiltering: true }), rowBytes });
  }
  const seen = new Set<number>();
  for (const { name, png, rowBytes } of pngs) {
    const fast = decodePlainGreyPng(png);
    assert.ok(fast, `${name}: a plain grey PNG takes the in-process path`);
    const reference = await decodeGreyWithSharp(png);
    assert.deepEqual([fast.width, fast.height, fast.data.constructor.name], [reference.width, reference.height, reference.data.constructor.name], name);
    assert.deepEqual(fast.data, reference.data, name);
    for (const t of filterTypes(png, rowBytes)) seen.add(t);
  }
  assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4], 'the cases use every filter type');
});

test('in-process PNG decode: anything but a plain grey PNG goes to sharp (colour, alpha, palette, interlaced, truncated)', async () => {
  const grey = noise(20, 10, 8, 6);
  const rgb = await sharp(Buffer.alloc(20 * 10 * 3, 90), { raw: { width: 20, height: 10, channels: 3 } }).png().toBuffer();
  const alpha = await sharp(grey.data, { raw: { width: 20, height: 10, channels: 1 } }).joinChannel(Buffer.alloc(200, 255), { raw: { width: 20, height: 10, channels: 1 } }).png().toBuffer();
  const palette = await sharp(Buffer.alloc(20 * 10 * 3, 90), { raw: { width: 20, height: 10, channels: 3 } }).png({ palette: true }).toBuffer();
  const interlaced = await sharp(grey.data, { raw: { width: 20, height: 10, channels: 1 } }).toColourspace('b-w').png({ progressive: true }).toBuffer();
  for (const [name, png] of Object.entries({ rgb, alpha, palette, interlaced })) {
    assert.equal(decodePlainGreyPng(png), undefined, name);
    assert.deepEqual(await decodeGrey(png), await decodeGreyWithSharp(png), name);
  }
  assert.deepEqual((await decodeGrey(interlaced)).data, grey.data, 'an interlaced grey PNG still decodes (through sharp)');
  const whole = encodeGreyPng(grey, 1);
  const truncated = whole.subarray(0, whole.length - 30);
  assert.equal(decodePlainGreyPng(truncated), undefined);
  await assert.rejects(decodeGrey(truncated), 'sharp reports the broken file');
  const corrupt = new Uint8Array(whole);
  corrupt[45] ^= 0xff; // inside the deflate stream
  assert.equal(decodePlainGreyPng(corrupt), undefined, 'a stream that does not inflate cleanly goes to sharp');
  const badCrc = new Uint8Array(whole);
  badCrc[whole.length - 12 - 1] ^= 0xff; // the last byte of IDAT's CRC: the data itself is intact
  assert.equal(decodePlainGreyPng(badCrc), undefined, 'a critical chunk with a wrong CRC goes to sharp');
  await assert.rejects(decodeGrey(badCrc), 'sharp (libspng) refuses it, as before');
});
