import type { DicomHeader, ParsedDicom } from '../parse.ts';
import { bytesPerSample, sampleWords, storedTransform, storedValues, wordsToStored } from '../stored-values.ts';
import { decodeJpegDct } from './jpeg-dct.ts';
import { decodeJpegLosslessFrame } from './jpeg-lossless.ts';
import { jpegFrameHeader } from './jpeg-markers.ts';
import { decodeNativeFrame } from './native.ts';
import { decodeRleFrame } from './rle.ts';
import { decodeWithWasm, type WasmDecoded } from './wasm-codecs.ts';

/**
 * One decoded frame, samples interleaved. 8- and 16-bit data stay as decoded words (rendering maps them
 * through one table, with `stored` folded in); 1- and 32-bit and planar data are stored values already.
 */
export interface DecodedFrame {
  rows: number;
  columns: number;
  samples: number;
  words: Uint8Array | Uint16Array | Int32Array;
  /** Word -> stored value: masked to Bits Stored, sign-extended (identity for Int32Array words). */
  stored(word: number): number;
}

const identity = (v: number) => v;

/** The stored values of a frame (masked, sign-extended), one per sample. */
export function frameValues(frame: DecodedFrame): Int32Array {
  if (frame.words instanceof Int32Array) return frame.words;
  const out = new Int32Array(frame.words.length);
  for (let i = 0; i < out.length; i++) out[i] = frame.stored(frame.words[i]);
  return out;
}

/** Decodes frame `index` (0-based) of a parsed file; errors say which codec failed and why. */
export async function decodeFrame(parsed: ParsedDicom, index: number): Promise<DecodedFrame> {
  const h = parsed.header;
  if (index < 0 || index >= h.frames) throw new Error(`frame ${index} out of range (file has ${h.frames})`);
  const ts = h.transferSyntax;
  if (ts.codec === 'unsupported') throw new Error(`unsupported transfer syntax ${ts.uid} (${ts.name})`);
  if (![1, 8, 16, 32].includes(h.bitsAllocated)) throw new Error(`Bits Allocated ${h.bitsAllocated} is not supported (1, 8, 16, 32 are)`);
  const count = h.rows * h.columns * h.samplesPerPixel;
  let bytes: Uint8Array;
  let planar = h.planarConfiguration === 1 && h.samplesPerPixel > 1;
  if (!parsed.pixels.encapsulated) {
    bytes = decodeNativeFrame(parsed.pixels.bytes, h, index, ts.littleEndian);
    if (h.bitsAllocated === 1) return frame(h, storedValues(bytes, { ...h, bitsAllocated: 8, bitsStored: 1, highBit: 0 }, count), identity);
  } else {
    const encoded = parsed.pixels.frames[index];
    if (!encoded || encoded.length === 0) throw new Error(`frame ${index} has no encoded data`);
    bytes = await decodeEncapsulated(ts.codec, encoded, h);
    planar = false; // the codecs (and our RLE decoder) return interleaved samples
    if (bytes.length < count * bytesPerSample(h.bitsAllocated)) {
      throw new Error(`${ts.name} decoder returned ${bytes.length} bytes, expected ${count * bytesPerSample(h.bitsAllocated)} for ${h.columns}x${h.rows}x${h.samplesPerPixel}`);
    }
    if (isAllZero(bytes)) throw new Error(`${ts.name} decoder returned an all-zero frame (corrupt or unsupported stream)`);
  }
  const words = sampleWords(bytes, h.bitsAllocated, count);
  if (planar) return frame(h, interleave(wordsToStored(words, h), h.samplesPerPixel), identity);
  if (words instanceof Uint32Array) return frame(h, wordsToStored(words, h), identity);
  return frame(h, words, storedTransform(h));
}

function frame(h: DicomHeader, words: DecodedFrame['words'], stored: (word: number) => number): DecodedFrame {
  return { rows: h.rows, columns: h.columns, samples: h.samplesPerPixel, words, stored };
}

async function decodeEncapsulated(codec: string, encoded: Uint8Array, h: DicomHeader): Promise<Uint8Array> {
  switch (codec) {
    case 'rle':
      return decodeRleFrame(encoded, h.rows, h.columns, h.samplesPerPixel, h.bitsAllocated);
    case 'jpeg-lossless':
      return decodeJpegLosslessFrame(encoded, h.bitsAllocated);
    case 'jpeg-baseline':
    case 'jpeg-extended': {
      const sof = jpegFrameHeader(encoded);
      if (!sof) throw new Error('JPEG stream has no frame header (SOF marker)');
      if (sof.marker === 0xc3) return decodeJpegLosslessFrame(encoded, h.bitsAllocated);
      if (sof.precision > 8) {
        const image = decodeJpegDct(encoded);
        if (image.width !== h.columns || image.height !== h.rows) throw new Error(`JPEG stream is ${image.width}x${image.height}, the header says ${h.columns}x${h.rows}`);
        return new Uint8Array(image.samples.buffer, image.samples.byteOffset, image.samples.byteLength);
      }
      return checked(await decodeWithWasm('JPEGDecoder', encoded), h, 'JPEG');
    }
    case 'jpeg-ls':
      return checked(await decodeWithWasm('JpegLSDecoder', encoded), h, 'JPEG-LS');
    case 'jpeg-2000':
      return checked(await decodeWithWasm('J2KDecoder', encoded), h, 'JPEG 2000');
    default:
      throw new Error(`no decoder for ${codec}`);
  }
}

/** Checks a wasm codec's output geometry against the header and widens 8-bit output to 16 bits when needed. */
function checked(d: WasmDecoded, h: DicomHeader, name: string): Uint8Array {
  if (d.width !== h.columns || d.height !== h.rows || d.components !== h.samplesPerPixel) {
    throw new Error(`${name} stream is ${d.width}x${d.height}x${d.components}, the header says ${h.columns}x${h.rows}x${h.samplesPerPixel}`);
  }
  const codecWidth = d.bitsPerSample <= 8 ? 1 : 2;
  const want = bytesPerSample(h.bitsAllocated);
  if (codecWidth === want) return d.bytes;
  if (codecWidth === 1 && want === 2) {
    const out = new Uint8Array(d.bytes.length * 2);
    for (let i = 0; i < d.bytes.length; i++) out[2 * i] = d.bytes[i];
    return out;
  }
  throw new Error(`${name} stream has ${d.bitsPerSample}-bit samples, the header says Bits Allocated ${h.bitsAllocated}`);
}

function isAllZero(bytes: Uint8Array): boolean {
  const words = Math.floor(bytes.byteOffset % 4 === 0 ? bytes.length / 4 : 0);
  const view = words ? new Uint32Array(bytes.buffer, bytes.byteOffset, words) : undefined;
  if (view) for (let i = 0; i < words; i++) if (view[i] !== 0) return false;
  for (let i = words * 4; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

function interleave(values: Int32Array, samples: number): Int32Array {
  const pixels = values.length / samples;
  const out = new Int32Array(values.length);
  for (let s = 0; s < samples; s++) for (let p = 0; p < pixels; p++) out[p * samples + s] = values[s * pixels + p];
  return out;
}
