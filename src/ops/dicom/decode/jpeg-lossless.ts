/**
 * JPEG Lossless (ITU T.81 Annex H, process 14: SOF3, Huffman) for DICOM transfer syntaxes .57 and .70.
 * Handles what streams from different encoders use: predictors 1-7 (Ss), point transform (Al), restart
 * intervals and RSTn markers, one interleaved scan or one scan per component, a height given by a DNL
 * marker, fill bytes (0xFF) before markers, difference category 16 (32768, no extra bits), and any
 * precision 2-16. Returns interleaved samples, little-endian, 1 byte each up to 8 bits, else 2.
 */

import { JpegSegments, nextMarker, unsupportedProcess } from './jpeg-markers.ts';

interface Table {
  /** 9-bit lookahead: (length << 8 | symbol), or 0 when the code is longer. */
  fast: Uint16Array;
  maxCode: Int32Array;
  valPtr: Int32Array;
  minCode: Int32Array;
  values: Uint8Array;
}

interface Component {
  id: number;
  h: number;
  v: number;
  table?: Table;
}

interface Frame {
  precision: number;
  width: number;
  height: number;
  components: Component[];
}

const FAST_BITS = 9;

export function decodeJpegLosslessFrame(data: Uint8Array, bitsAllocated: number): Uint8Array {
  const image = decodeJpegLossless(data);
  const samples = image.samples;
  if (bitsAllocated <= 8) {
    if (image.precision > 8) throw new Error(`JPEG Lossless stream has ${image.precision}-bit samples, the header says Bits Allocated ${bitsAllocated}`);
    return Uint8Array.from(samples);
  }
  return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
}

export interface LosslessImage {
  width: number;
  height: number;
  precision: number;
  components: number;
  /** Interleaved samples. */
  samples: Uint16Array;
}

export function decodeJpegLossless(data: Uint8Array): LosslessImage {
  const segments = new JpegSegments(data);
  const tables: Array<Table | undefined> = [];
  let frame: Frame | undefined;
  let samples: Uint16Array | undefined;
  let restartInterval = 0;
  let scans = 0;
  for (let s = segments.next(); s; s = segments.next()) {
    const { marker, segment } = s;
    if (marker === 0xc4) readHuffmanTables(segment, tables);
    else if (marker === 0xdd) restartInterval = (segment[0] << 8) | segment[1];
    else if (marker === 0xdc) {
      // DNL: the frame height, when the frame header said 0
      if (frame && frame.height === 0) frame.height = (segment[0] << 8) | segment[1];
    } else if (marker === 0xc3) frame = readFrame(segment);
    else if (marker === 0xc0 || marker === 0xc1) throw new Error(`not a lossless JPEG stream (SOF marker 0x${marker.toString(16)}); the transfer syntax says JPEG Lossless`);
    else if (unsupportedProcess(marker)) throw new Error(`JPEG process with SOF marker 0x${marker.toString(16)} (${unsupportedProcess(marker)}) is not supported`);
    else if (marker === 0xda) {
      if (!frame) throw new Error('JPEG scan before the frame header');
      const f = frame;
      const count = segment[0];
      const scanComponents: Array<{ index: number; table: Table }> = [];
      for (let i = 0; i < count; i++) {
        const index = f.components.findIndex((c) => c.id === segment[1 + 2 * i]);
        if (index < 0) throw new Error(`JPEG scan names component ${segment[1 + 2 * i]}, which the frame does not have`);
        const table = tables[segment[2 + 2 * i] >> 4];
        if (!table) throw new Error(`JPEG scan refers to a missing Huffman table ${segment[2 + 2 * i] >> 4}`);
        scanComponents.push({ index, table });
      }
      const predictor = segment[1 + 2 * count];
      const pointTransform = segment[3 + 2 * count] & 15;
      if (predictor < 1 || predictor > 7) throw new Error(`JPEG Lossless predictor ${predictor} is not 1-7`);
      // A height of 0 is given later by a DNL marker: decode up to as many lines as the data can hold (a sample takes >= 1 bit).
      const height = f.height || Math.min(65535, Math.ceil((data.length * 8) / (f.width * f.components.length)));
      samples ??= new Uint16Array(f.width * height * f.components.length);
      const { end, rows } = decodeScan({ data, start: s.end, frame: f, height, components: scanComponents, predictor, pointTransform, restartInterval, samples });
      if (!f.height) f.height = findDnl(data, end) ?? rows;
      scans++;
      segments.seek(end);
    }
    // APPn, COM, DQT...: skipped
  }
  if (!frame || !samples || scans === 0) throw new Error('JPEG stream has no scan');
  const n = frame.components.length;
  return { width: frame.width, height: frame.height, precision: frame.precision, components: n, samples: samples.subarray(0, frame.width * frame.height * n) };
}

function readFrame(segment: Uint8Array): Frame {
  const precision = segment[0];
  if (precision < 2 || precision > 16) throw new Error(`JPEG Lossless precision ${precision} is not 2-16`);
  const count = segment[5];
  const components = Array.from({ length: count }, (_, i) => ({ id: segment[6 + 3 * i], h: segment[7 + 3 * i] >> 4, v: segment[7 + 3 * i] & 15 }));
  if (components.some((c) => c.h !== 1 || c.v !== 1)) throw new Error('JPEG Lossless with subsampled components is not supported');
  return { precision, height: (segment[1] << 8) | segment[2], width: (segment[3] << 8) | segment[4], components };
}

function readHuffmanTables(segment: Uint8Array, tables: Array<Table | undefined>): void {
  let i = 0;
  while (i + 17 <= segment.length) {
    const id = segment[i] & 15;
    const counts = segment.subarray(i + 1, i + 17);
    let total = 0;
    for (const c of counts) total += c;
    const values = segment.slice(i + 17, i + 17 + total);
    const maxCode = new Int32Array(18).fill(-1);
    const minCode = new Int32Array(17);
    const valPtr = new Int32Array(17);
    const fast = new Uint16Array(1 << FAST_BITS);
    let code = 0;
    let k = 0;
    for (let len = 1; len <= 16; len++) {
      valPtr[len] = k;
      minCode[len] = code;
      for (let j = 0; j < counts[len - 1]; j++, k++, code++) {
        if (len <= FAST_BITS) {
          const first = code << (FAST_BITS - len);
          for (let t = 0; t < 1 << (FAST_BITS - len); t++) fast[first + t] = (len << 8) | values[k];
        }
      }
      maxCode[len] = counts[len - 1] ? code - 1 : -1;
      code <<= 1;
    }
    maxCode[17] = 0x7fffffff;
    tables[id] = { fast, maxCode, minCode, valPtr, values };
    i += 17 + total;
  }
}

/** Entropy-coded data: removes 0xFF00 stuffing; at a marker it feeds zero bits, as libjpeg does. */
class Bits {
  private buffer = 0;
  private count = 0;
  /** Zero bits fed after a marker was met. */
  private zeros = 0;
  /** Set when a marker was met; the position of its 0xFF. */
  marker = -1;
  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {}

  private fill(): void {
    while (this.count <= 24) {
      let byte = 0;
      if (this.marker < 0 && this.pos < this.data.length) {
        byte = this.data[this.pos];
        if (byte === 0xff) {
          let next = this.pos + 1;
          while (next < this.data.length && this.data[next] === 0xff) next++; // fill bytes
          if (this.data[next] === 0x00) this.pos = next + 1;
          else {
            this.marker = this.pos;
            byte = 0;
            this.zeros += 8;
          }
        } else this.pos++;
      } else this.zeros += 8;
      this.buffer = ((this.buffer << 8) | byte) >>> 0;
      this.count += 8;
    }
  }

  peek16(): number {
    if (this.count < 16) this.fill();
    return (this.buffer >>> (this.count - 16)) & 0xffff;
  }

  skip(n: number): void {
    this.count -= n;
  }

  receive(n: number): number {
    if (n === 0) return 0;
    if (this.count < n) this.fill();
    this.count -= n;
    return (this.buffer >>> this.count) & ((1 << n) - 1);
  }

  /** True when the data before a marker is used up (only padding bits left). */
  exhausted(): boolean {
    return this.marker >= 0 && this.count - this.zeros < 8;
  }

  /** Skips to after the next RSTn marker (or stops at another marker) and empties the bit buffer. */
  restart(): void {
    this.count = 0;
    this.buffer = 0;
    this.zeros = 0;
    let p = this.marker >= 0 ? this.marker : this.pos;
    while (p + 1 < this.data.length && !(this.data[p] === 0xff && this.data[p + 1] !== 0x00 && this.data[p + 1] !== 0xff)) p++;
    if (p + 1 < this.data.length && this.data[p + 1] >= 0xd0 && this.data[p + 1] <= 0xd7) p += 2;
    this.pos = p;
    this.marker = -1;
  }

  /** Position of the marker after the scan's data. */
  end(): number {
    return nextMarker(this.data, this.marker >= 0 ? this.marker : this.pos - 4);
  }
}

function decodeDifference(bits: Bits, t: Table): number {
  const look = bits.peek16();
  let entry = t.fast[look >>> (16 - FAST_BITS)];
  let s: number;
  if (entry) {
    bits.skip(entry >> 8);
    s = entry & 0xff;
  } else {
    let len = FAST_BITS + 1;
    let code = look >>> (16 - len);
    while (len <= 16 && code > t.maxCode[len]) {
      len++;
      code = look >>> (16 - len);
    }
    if (len > 16) throw new Error('corrupt JPEG Lossless data: bad Huffman code');
    bits.skip(len);
    s = t.values[t.valPtr[len] + code - t.minCode[len]];
    entry = 1;
  }
  if (s === 0) return 0;
  if (s === 16) return 32768;
  if (s > 16) throw new Error(`corrupt JPEG Lossless data: difference category ${s}`);
  const v = bits.receive(s);
  return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
}

interface Scan {
  data: Uint8Array;
  start: number;
  frame: Frame;
  height: number;
  components: Array<{ index: number; table: Table }>;
  predictor: number;
  pointTransform: number;
  restartInterval: number;
  samples: Uint16Array;
}

/**
 * Decodes one scan (H.1.2): the first sample of the scan and of each restart interval is predicted by
 * 2^(P - Pt - 1), the rest of that line by the left neighbour, the first column of other lines by the
 * sample above, everything else by the selected predictor; reconstruction is modulo 2^16 and the output
 * is shifted left by Pt.
 */
function decodeScan(s: Scan): { end: number; rows: number } {
  const { frame, components, predictor, pointTransform, samples } = s;
  const width = frame.width;
  const n = frame.components.length;
  const bits = new Bits(s.data, s.start);
  const initial = 1 << (frame.precision - pointTransform - 1);
  // Reconstructed values before the point transform shift: one line of each scan component, and the line above.
  let above = components.map(() => new Int32Array(width));
  let line = components.map(() => new Int32Array(width));
  let firstLine = true; // the line where the scan or a restart interval started
  let reset = true; // the next sample is predicted by `initial`
  let mcu = 0;
  let rows = 0;
  for (let y = 0; y < s.height; y++) {
    if (!frame.height && bits.exhausted() && !isRestart(s.data[bits.marker + 1])) break; // the height comes from a DNL marker
    if (y > 0) firstLine = false;
    for (let x = 0; x < width; x++, mcu++) {
      if (s.restartInterval && mcu > 0 && mcu % s.restartInterval === 0) {
        bits.restart();
        reset = true;
        firstLine = true;
      }
      for (let k = 0; k < components.length; k++) {
        const cur = line[k];
        const up = above[k];
        let prediction: number;
        if (reset) prediction = initial;
        else if (firstLine) prediction = cur[x - 1];
        else if (x === 0) prediction = up[0];
        else prediction = predict(predictor, cur[x - 1], up[x], up[x - 1]);
        const value = (prediction + decodeDifference(bits, components[k].table)) & 0xffff;
        cur[x] = value;
        samples[(y * width + x) * n + components[k].index] = (value << pointTransform) & 0xffff;
      }
      reset = false;
    }
    rows = y + 1;
    const t = above;
    above = line;
    line = t;
  }
  return { end: bits.end(), rows };
}

function isRestart(marker: number): boolean {
  return marker >= 0xd0 && marker <= 0xd7;
}

function predict(selection: number, ra: number, rb: number, rc: number): number {
  switch (selection) {
    case 1:
      return ra;
    case 2:
      return rb;
    case 3:
      return rc;
    case 4:
      return ra + rb - rc;
    case 5:
      return ra + ((rb - rc) >> 1);
    case 6:
      return rb + ((ra - rc) >> 1);
    default:
      return (ra + rb) >> 1;
  }
}

/** The height a DNL marker (0xFFDC) right after a scan gives, if any. */
function findDnl(data: Uint8Array, at: number): number | undefined {
  let p = at;
  while (p + 1 < data.length && data[p] === 0xff && data[p + 1] === 0xff) p++;
  if (data[p] === 0xff && data[p + 1] === 0xdc) return (data[p + 4] << 8) | data[p + 5];
  return undefined;
}
