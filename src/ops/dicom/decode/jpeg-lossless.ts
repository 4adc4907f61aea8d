import { Decoder } from 'jpeg-lossless-decoder-js';

/** JPEG Lossless (Process 14, any predictor) via jpeg-lossless-decoder-js; interleaved little-endian samples. */
export function decodeJpegLosslessFrame(frame: Uint8Array, bitsAllocated: number): Uint8Array {
  const decoder = new Decoder();
  const out = decoder.decode(frame.buffer as ArrayBuffer, frame.byteOffset, frame.byteLength, bitsAllocated > 8 ? 2 : 1) as Uint8Array | Uint16Array;
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
