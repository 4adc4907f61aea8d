import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

interface WasmEncoder {
  getDecodedBuffer(info: FrameInfo & { isUsingColorTransform?: boolean }): Uint8Array;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  setNearLossless?(near: number): void;
  setDecompositions?(levels: number): void;
}

async function encoder(module: string, name: string): Promise<WasmEncoder> {
  const factory = require(module) as (m: object) => Promise<Record<string, new () => WasmEncoder>>;
  const codec = await factory({ print: () => {}, printErr: () => {} });
  return new codec[name]();
}

/** A JPEG-LS stream of interleaved samples with precision P = `bitsPerSample` (CharLS, the encoder of @cornerstonejs/codec-charls). */
export async function encodeJpegLs(samples: Uint8Array | Uint16Array, info: FrameInfo, near = 0): Promise<Uint8Array> {
  const e = await encoder('@cornerstonejs/codec-charls/wasmjs', 'JpegLSEncoder');
  const input = e.getDecodedBuffer({ ...info, isSigned: false, isUsingColorTransform: false });
  input.set(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
  if (near) e.setNearLossless!(near);
  e.encode();
  return e.getEncodedBuffer().slice();
}

/** A lossless JPEG 2000 codestream (OpenJPEG, the encoder of @cornerstonejs/codec-openjpeg). */
export async function encodeJ2k(samples: Uint8Array | Uint16Array, info: FrameInfo): Promise<Uint8Array> {
  const e = await encoder('@cornerstonejs/codec-openjpeg/wasmjs', 'J2KEncoder');
  // OpenJPEG's default of 5 wavelet levels needs images of at least 32 px a side.
  e.setDecompositions!(Math.max(0, Math.min(5, Math.floor(Math.log2(Math.min(info.width, info.height))))));
  const input = e.getDecodedBuffer({ ...info, isSigned: info.isSigned ?? false, isUsingColorTransform: false });
  input.set(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
  e.encode();
  return e.getEncodedBuffer().slice();
}
