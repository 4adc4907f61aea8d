import type { DicomHeader, ParsedDicom } from '../parse.ts';
import { bytesPerSample, floatValues, sampleWords, storedTransform, storedValues, wordsToStored } from '../stored-values.ts';
import { decodeJpegDct, type DctImage } from './jpeg-dct.ts';
import { upsample } from './jpeg-upsample.ts';
import { smallSignedAsUnsigned, unshiftSamples } from './j2k-signed.ts';
import { decodeJpegLosslessFrame } from './jpeg-lossless.ts';
import { jpegFrameHeader } from './jpeg-markers.ts';
import { decodeNativeFrame, isSubsampled422, nativeFrameSamples } from './native.ts';
import { decodeRleFrame } from './rle.ts';
import { decodeWithWasm, type WasmDecoded } from './wasm-codecs.ts';

/**
 * One decoded frame, samples interleaved. 8- and 16-bit data stay as decoded words (rendering maps them
 * through one table, with `stored` folded in); other data are values already: Int32Array (1-bit, planar,
 * 4:2:2), Float64Array (32-bit integers, Float and Double Float Pixel Data).
 */
export interface DecodedFrame {
  rows: number;
  columns: number;
  samples: number;
  words: Uint8Array | Uint16Array | Int32Array | Float64Array;
  /** Word -> stored value: masked to Bits Stored, sign-extended (identity for values). */
  stored(word: number): number;
  /** False for Float / Double Float Pixel Data (values need not be integers). */
  integer: boolean;
}

const identity = (v: number) => v;

/** The stored values of a frame (masked, sign-extended), one per sample. */
export function frameValues(frame: DecodedFrame): Int32Array | Float64Array {
  if (frame.words instanceof Int32Array || frame.words instanceof Float64Array) return frame.words;
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
  if (h.sampleType !== 'integer') return floatFrame(parsed, index);
  if (![1, 8, 16, 32].includes(h.bitsAllocated)) throw new Error(`Bits Allocated ${h.bitsAllocated} is not supported (1, 8, 16, 32 are)`);
  const count = h.rows * h.columns * h.samplesPerPixel;
  if (!parsed.pixels.encapsulated) {
    const bytes = decodeNativeFrame(parsed.pixels.bytes, h, index, ts.littleEndian);
    if (h.bitsAllocated === 1) return frame(h, storedValues(bytes, { ...h, bitsAllocated: 8, bitsStored: 1, highBit: 0 }, count), identity);
    const words = sampleWords(bytes, h.bitsAllocated, nativeFrameSamples(h));
    if (isSubsampled422(h)) return frame(h, upsample422(wordsToStored(words, h), h.rows * h.columns), identity);
    if (h.planarConfiguration === 1 && h.samplesPerPixel > 1) return frame(h, interleave(wordsToStored(words, h), h.samplesPerPixel), identity);
    return wordsFrame(h, words);
  }
  const encoded = parsed.pixels.frames[index];
  if (!encoded || encoded.length === 0) throw new Error(`frame ${index} has no encoded data`);
  // The codecs (and our RLE decoder) return interleaved samples at full resolution.
  const bytes = await decodeEncapsulated(ts.codec, encoded, h);
  if (bytes.length < count * bytesPerSample(h.bitsAllocated)) {
    throw new Error(`${ts.name} decoder returned ${bytes.length} bytes, expected ${count * bytesPerSample(h.bitsAllocated)} for ${h.columns}x${h.rows}x${h.samplesPerPixel}`);
  }
  return wordsFrame(h, sampleWords(bytes, h.bitsAllocated, count));
}

function wordsFrame(h: DicomHeader, words: Uint8Array | Uint16Array | Uint32Array): DecodedFrame {
  if (words instanceof Uint32Array) return frame(h, wordsToStored(words, h), identity);
  return frame(h, words, storedTransform(h));
}

function floatFrame(parsed: ParsedDicom, index: number): DecodedFrame {
  const h = parsed.header;
  if (parsed.pixels.encapsulated) throw new Error('Float Pixel Data cannot be encapsulated');
  const bytes = decodeNativeFrame(parsed.pixels.bytes, h, index, h.transferSyntax.littleEndian);
  return { ...frame(h, floatValues(bytes, h.sampleType as 'float32' | 'float64', h.rows * h.columns * h.samplesPerPixel), identity), integer: false };
}

function frame(h: DicomHeader, words: DecodedFrame['words'], stored: (word: number) => number): DecodedFrame {
  return { rows: h.rows, columns: h.columns, samples: h.samplesPerPixel, words, stored, integer: true };
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
      // 12-bit, and colour (whose components must come back as stored, as GDCM returns them): our DCT decoder.
      if (sof.precision > 8 || h.samplesPerPixel > 1) return dctSamples(decodeJpegDct(encoded), h);
      return checked(await decodeWithWasm('JPEGDecoder', encoded), h, 'JPEG');
    }
    case 'jpeg-ls': {
      const bytes = checked(await decodeWithWasm('JpegLSDecoder', encoded), h, 'JPEG-LS');
      // CharLS returns the planes one after another for a non-interleaved stream (ILV 0, or a scan per component).
      return h.samplesPerPixel > 1 && jpegLsInterleaveMode(encoded) === 0 ? interleaveBytes(bytes, h.samplesPerPixel, bytesPerSample(h.bitsAllocated)) : bytes;
    }
    case 'jpeg-2000': {
      const unsigned = smallSignedAsUnsigned(encoded);
      if (!unsigned) return checked(await decodeWithWasm('J2KDecoder', encoded), h, 'JPEG 2000');
      const decoded = await decodeWithWasm('J2KDecoder', unsigned.stream);
      return checked(decoded.bitsPerSample <= 8 ? { ...decoded, bytes: unshiftSamples(decoded.bytes, unsigned.shifts) } : decoded, h, 'JPEG 2000');
    }
    default:
      throw new Error(`no decoder for ${codec}`);
  }
}

/** Interleaved little-endian samples of a DCT-decoded stream, chroma planes upsampled as libjpeg does. */
function dctSamples(image: DctImage, h: DicomHeader): Uint8Array {
  if (image.width !== h.columns || image.height !== h.rows || image.components.length !== h.samplesPerPixel) {
    throw new Error(`JPEG stream is ${image.width}x${image.height}x${image.components.length}, the header says ${h.columns}x${h.rows}x${h.samplesPerPixel}`);
  }
  const n = image.components.length;
  const pixels = h.rows * h.columns;
  const out = h.bitsAllocated > 8 ? new Uint16Array(pixels * n) : new Uint8Array(pixels * n);
  image.components.forEach((c, k) => {
    const plane = upsample(c, image.width, image.height);
    for (let p = 0; p < pixels; p++) out[p * n + k] = plane[p];
  });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
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

/** The ILV parameter of a JPEG-LS stream's first scan header (0 none, 1 line, 2 sample), or undefined. */
function jpegLsInterleaveMode(stream: Uint8Array): number | undefined {
  for (let i = 2; i + 4 < stream.length; ) {
    if (stream[i] !== 0xff) return undefined;
    const marker = stream[i + 1];
    const length = (stream[i + 2] << 8) | stream[i + 3];
    if (marker === 0xda) return stream[i + 4 + 1 + 2 * stream[i + 4] + 1];
    i += 2 + length;
  }
  return undefined;
}

/** Planar samples (all of plane 0, then plane 1...) -> interleaved, `width` bytes per sample. */
function interleaveBytes(planar: Uint8Array, samples: number, width: number): Uint8Array {
  const pixels = planar.length / (samples * width);
  const out = new Uint8Array(planar.length);
  for (let s = 0; s < samples; s++) {
    for (let p = 0; p < pixels; p++) for (let b = 0; b < width; b++) out[(p * samples + s) * width + b] = planar[(s * pixels + p) * width + b];
  }
  return out;
}

function interleave(values: Int32Array | Float64Array, samples: number): Int32Array | Float64Array {
  const pixels = values.length / samples;
  const out = values instanceof Float64Array ? new Float64Array(values.length) : new Int32Array(values.length);
  for (let s = 0; s < samples; s++) for (let p = 0; p < pixels; p++) out[p * samples + s] = values[s * pixels + p];
  return out;
}

/** Y0 Y1 Cb Cr per pixel pair -> Y Cb Cr per pixel (the chroma repeated, as pydicom resamples it). */
function upsample422(values: Int32Array | Float64Array, pixels: number): Int32Array | Float64Array {
  const out = values instanceof Float64Array ? new Float64Array(pixels * 3) : new Int32Array(pixels * 3);
  for (let p = 0; p < pixels; p += 2) {
    const i = p * 2;
    const cb = values[i + 2];
    const cr = values[i + 3];
    out[p * 3] = values[i];
    out[p * 3 + 1] = cb;
    out[p * 3 + 2] = cr;
    if (p + 1 < pixels) {
      out[p * 3 + 3] = values[i + 1];
      out[p * 3 + 4] = cb;
      out[p * 3 + 5] = cr;
    }
  }
  return out;
}
