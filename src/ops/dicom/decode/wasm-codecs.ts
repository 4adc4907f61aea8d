import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The shape shared by the cornerstone wasm decoders (J2KDecoder, JpegLSDecoder, JPEGDecoder). */
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned?: boolean };
  getDecodedBuffer(): Uint8Array;
  delete?(): void;
}

type DecoderName = 'J2KDecoder' | 'JpegLSDecoder' | 'JPEGDecoder';

const modules: Record<DecoderName, string> = {
  J2KDecoder: '@cornerstonejs/codec-openjpeg/decodewasmjs',
  JpegLSDecoder: '@cornerstonejs/codec-charls/decodewasmjs',
  JPEGDecoder: '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs',
};

const decoders = new Map<DecoderName, Promise<WasmDecoder>>();

/** One decoder instance per codec and thread, created on first use (the wasm module loads once). */
function decoder(name: DecoderName): Promise<WasmDecoder> {
  let pending = decoders.get(name);
  if (!pending) {
    const factory = require(modules[name]) as (module: object) => Promise<Record<string, new () => WasmDecoder>>;
    // The emscripten builds print progress ("[INFO] ...") to stdout unless given quiet print hooks.
    pending = factory({ print: () => {}, printErr: () => {} }).then((codec) => new codec[name]());
    decoders.set(name, pending);
  }
  return pending;
}

export interface WasmDecoded {
  width: number;
  height: number;
  bitsPerSample: number;
  components: number;
  signed: boolean;
  /** Interleaved samples: 1 byte each up to 8 bits, else 2 little-endian bytes. A copy, owned by the caller. */
  bytes: Uint8Array;
}

/** Decodes one encoded frame with a cornerstone wasm codec. Calls are synchronous once loaded, so one instance per thread is safe. */
export async function decodeWithWasm(name: DecoderName, encoded: Uint8Array): Promise<WasmDecoded> {
  const codec = await decoder(name);
  codec.getEncodedBuffer(encoded.length).set(encoded);
  codec.decode();
  const info = codec.getFrameInfo();
  return {
    width: info.width,
    height: info.height,
    bitsPerSample: info.bitsPerSample,
    components: info.componentCount,
    signed: Boolean(info.isSigned),
    bytes: codec.getDecodedBuffer().slice(),
  };
}
