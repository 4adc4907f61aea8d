import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { deflateSync } from 'node:zlib';
import { tempStore } from '../../src/testing/harness.ts';
import { initBackend } from '../../src/ml/backend.ts';
import { loadImageBatch, loadImageTensor } from '../../src/ml/image-tensor.ts';

async function png8(pixels: number[], width: number, height: number): Promise<Buffer> {
  return sharp(Buffer.from(pixels), { raw: { width, height, channels: 1 } }).png().toBuffer();
}

/** A 16-bit greyscale PNG written by hand (sharp's raw 16-bit input is not reliable for fixtures). */
function png16(pixels: number[], width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 16; // bit depth
  ihdr[9] = 0; // greyscale
  const raw = Buffer.alloc(height * (1 + width * 2));
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.writeUInt16BE(pixels[y * width + x], y * (1 + width * 2) + 1 + x * 2);
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

test('8-bit grey PNG decodes to [0,1] floats, 1 or 3 channels', async () => {
  await initBackend('cpu');
  const store = await tempStore();
  const digest = await store.putBlob(await png8([0, 51, 204, 255], 2, 2));
  const grey = await loadImageTensor(store, digest, { size: 2, channels: 1 });
  assert.deepEqual(grey.shape, [2, 2, 1]);
  assert.deepEqual(Array.from(await grey.data()).map((v) => +v.toFixed(4)), [0, 0.2, 0.8, 1]);
  const rgb = await loadImageTensor(store, digest, { size: 2, channels: 3 });
  assert.deepEqual(Array.from(await rgb.data()).map((v) => +v.toFixed(4)), [0, 0, 0, 0.2, 0.2, 0.2, 0.8, 0.8, 0.8, 1, 1, 1]);
});

test('16-bit grey PNG keeps its precision', async () => {
  await initBackend('cpu');
  const store = await tempStore();
  const digest = await store.putBlob(png16([0, 1000, 30000, 65535], 2, 2));
  const t = await loadImageTensor(store, digest, { size: 2, channels: 1 });
  const v = Array.from(await t.data());
  assert.ok(Math.abs(v[1] - 1000 / 65535) < 1e-6, `got ${v[1]}`);
  assert.ok(Math.abs(v[2] - 30000 / 65535) < 1e-6, `got ${v[2]}`);
});

test('batch stacks images in order and resizes', async () => {
  await initBackend('cpu');
  const store = await tempStore();
  const a = await store.putBlob(await png8(new Array(16).fill(255), 4, 4));
  const b = await store.putBlob(await png8(new Array(16).fill(0), 4, 4));
  const batch = await loadImageBatch(store, [a, b], { size: 2, channels: 1 });
  assert.deepEqual(batch.shape, [2, 2, 2, 1]);
  assert.deepEqual(Array.from(await batch.data()), [1, 1, 1, 1, 0, 0, 0, 0]);
});
