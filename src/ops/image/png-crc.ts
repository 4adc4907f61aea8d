import * as zlib from 'node:zlib';

const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 as PNG and zlib define it: Node's zlib.crc32 where present (Node >= 20.15), else a table. */
export const crc32 = zlibCrc32 ? (data: Uint8Array) => zlibCrc32(data) >>> 0 : tableCrc32;

let crcTable: Uint32Array | undefined;

/** CRC-32 computed with the 256-entry table of the PNG specification (annex D), for Node < 20.15. */
export function tableCrc32(data: Uint8Array): number {
  crcTable ??= makeCrcTable();
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function makeCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
}
