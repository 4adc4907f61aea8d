/**
 * A sequential-DCT Huffman JPEG decoder (ITU T.81 processes 1, 2 and 4: SOF0/SOF1) of 8 or 12 bits, written
 * for the 12-bit JPEG Extended DICOMs that the bundled 8-bit libjpeg-turbo codec cannot read, and for colour
 * streams, whose components it returns as stored (GDCM does not convert them either). The inverse DCT is libjpeg's "islow" integer IDCT (jidctint.c) with
 * its 12-bit constants, so output matches libjpeg/GDCM builds using the default DCT method.
 */

import { JpegSegments, nextMarker, unsupportedProcess } from './jpeg-markers.ts';

const ZIGZAG = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43,
  36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

interface HuffmanTable {
  /** Canonical decoding: per code length, the first code, count and index of its first symbol. */
  maxCode: Int32Array;
  valPtr: Int32Array;
  minCode: Int32Array;
  values: Uint8Array;
}

export interface DctComponent {
  id: number;
  /** Sampling factors. */
  h: number;
  v: number;
  /** Plane size: the image size scaled by h / Hmax, v / Vmax (rounded up). */
  width: number;
  height: number;
  samples: Uint16Array;
}

export interface DctImage {
  width: number;
  height: number;
  precision: number;
  /** Component 0's samples, row-major (the whole image for grey streams). */
  samples: Uint16Array;
  /** Every component as decoded, without colour conversion (as GDCM's IJG libjpeg returns them for DICOM). */
  components: DctComponent[];
}

interface FrameComponent {
  id: number;
  h: number;
  v: number;
  quantId: number;
  /** Blocks per line / column, padded to whole MCUs. */
  blocksX: number;
  blocksY: number;
  /** Dequantised coefficients, 64 per block. */
  coefficients: Float64Array;
  dcTable?: HuffmanTable;
  acTable?: HuffmanTable;
  pred: number;
}

interface Frame {
  precision: number;
  width: number;
  height: number;
  hMax: number;
  vMax: number;
  mcusX: number;
  mcusY: number;
  components: FrameComponent[];
}

/**
 * Decodes a sequential (SOF0/SOF1) Huffman JPEG of 8 or 12 bits with any number of components, interleaved
 * or one scan per component, with restart intervals. Components come back as stored (YCbCr stays YCbCr,
 * chroma planes at their own resolution).
 */
export function decodeJpegDct(data: Uint8Array): DctImage {
  const segments = new JpegSegments(data);
  const quant: Array<Int32Array | undefined> = [];
  const dcTables: Array<HuffmanTable | undefined> = [];
  const acTables: Array<HuffmanTable | undefined> = [];
  let frame: Frame | undefined;
  let restartInterval = 0;
  let scans = 0;
  for (let s = segments.next(); s; s = segments.next()) {
    const { marker, segment } = s;
    if (marker === 0xdb) readQuantTables(segment, quant);
    else if (marker === 0xc4) readHuffmanTables(segment, dcTables, acTables);
    else if (marker === 0xdd) restartInterval = (segment[0] << 8) | segment[1];
    else if (marker === 0xc0 || marker === 0xc1) frame = readFrame(segment);
    else if (marker === 0xc3 || unsupportedProcess(marker)) {
      throw new Error(`JPEG process with SOF marker 0x${marker.toString(16)} (${unsupportedProcess(marker) ?? 'lossless'}) is not supported by the DCT decoder`);
    } else if (marker === 0xda) {
      if (!frame) throw new Error('JPEG scan before the frame header');
      const scanComponents: FrameComponent[] = [];
      for (let i = 0; i < segment[0]; i++) {
        const c = frame.components.find((x) => x.id === segment[1 + 2 * i]);
        if (!c) throw new Error(`JPEG scan names component ${segment[1 + 2 * i]}, which the frame does not have`);
        c.dcTable = dcTables[segment[2 + 2 * i] >> 4];
        c.acTable = acTables[segment[2 + 2 * i] & 15];
        if (!c.dcTable || !c.acTable || !quant[c.quantId]) throw new Error('JPEG scan refers to a missing quantisation or Huffman table');
        scanComponents.push(c);
      }
      segments.seek(decodeScan(data, s.end, frame, scanComponents, quant, restartInterval));
      scans++;
    }
    // APPn, COM, DNL...: skipped
  }
  if (!frame || scans === 0) throw new Error('JPEG stream has no scan');
  const f = frame;
  const components = f.components.map((c) => planeOf(c, f));
  return { width: f.width, height: f.height, precision: f.precision, samples: components[0].samples, components };
}

function readFrame(segment: Uint8Array): Frame {
  const precision = segment[0];
  if (precision !== 8 && precision !== 12 && precision !== 16) throw new Error(`JPEG DCT precision ${precision} is not 8, 12 or 16`);
  const height = (segment[1] << 8) | segment[2];
  const width = (segment[3] << 8) | segment[4];
  const count = segment[5];
  const raw = Array.from({ length: count }, (_, i) => ({ id: segment[6 + 3 * i], h: segment[7 + 3 * i] >> 4, v: segment[7 + 3 * i] & 15, quantId: segment[8 + 3 * i] }));
  const hMax = Math.max(...raw.map((c) => c.h));
  const vMax = Math.max(...raw.map((c) => c.v));
  const mcusX = Math.ceil(width / (8 * hMax));
  const mcusY = Math.ceil(height / (8 * vMax));
  const components = raw.map((c) => {
    const blocksX = mcusX * c.h;
    const blocksY = mcusY * c.v;
    return { ...c, blocksX, blocksY, coefficients: new Float64Array(blocksX * blocksY * 64), pred: 0 };
  });
  return { precision, width, height, hMax, vMax, mcusX, mcusY, components };
}

function readQuantTables(segment: Uint8Array, quant: Array<Int32Array | undefined>): void {
  let i = 0;
  while (i < segment.length) {
    const sixteen = segment[i] >> 4;
    const id = segment[i] & 15;
    i++;
    const table = new Int32Array(64);
    for (let k = 0; k < 64; k++) {
      table[ZIGZAG[k]] = sixteen ? (segment[i] << 8) | segment[i + 1] : segment[i];
      i += sixteen ? 2 : 1;
    }
    quant[id] = table;
  }
}

function readHuffmanTables(segment: Uint8Array, dc: Array<HuffmanTable | undefined>, ac: Array<HuffmanTable | undefined>): void {
  let i = 0;
  while (i < segment.length) {
    const cls = segment[i] >> 4;
    const id = segment[i] & 15;
    const counts = segment.subarray(i + 1, i + 17);
    const total = counts.reduce((a, b) => a + b, 0);
    const values = segment.slice(i + 17, i + 17 + total);
    const maxCode = new Int32Array(18).fill(-1);
    const minCode = new Int32Array(17);
    const valPtr = new Int32Array(17);
    let code = 0;
    let k = 0;
    for (let len = 1; len <= 16; len++) {
      valPtr[len] = k;
      minCode[len] = code;
      code += counts[len - 1];
      k += counts[len - 1];
      maxCode[len] = counts[len - 1] ? code - 1 : -1;
      code <<= 1;
    }
    maxCode[17] = 0x7fffffff;
    (cls === 0 ? dc : ac)[id] = { maxCode, minCode, valPtr, values };
    i += 17 + total;
  }
}

/** Entropy-coded data reader: removes 0xFF00 stuffing, stops at markers (feeding zeros, as libjpeg does). */
class BitReader {
  private bits = 0;
  private count = 0;
  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {}

  bit(): number {
    if (this.count === 0) this.fill();
    this.count--;
    return (this.bits >> this.count) & 1;
  }

  receive(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = (v << 1) | this.bit();
    return v;
  }

  private fill(): void {
    const b = this.data[this.pos];
    if (b === 0xff) {
      const next = this.data[this.pos + 1];
      if (next === 0x00) this.pos += 2;
      else {
        this.bits = 0; // a marker: pad with zeros
        this.count = 8;
        return;
      }
    } else if (this.pos < this.data.length) this.pos++;
    this.bits = b ?? 0;
    this.count = 8;
  }

  /** Position of the marker after the entropy-coded data. */
  end(): number {
    return nextMarker(this.data, this.pos - 2);
  }

  /** Skips to just after the next RSTn marker and resets the bit buffer. */
  restart(): void {
    this.count = 0;
    while (this.pos + 1 < this.data.length && !(this.data[this.pos] === 0xff && this.data[this.pos + 1] >= 0xd0 && this.data[this.pos + 1] <= 0xd7)) this.pos++;
    this.pos += 2;
  }
}

function decodeHuffman(reader: BitReader, t: HuffmanTable): number {
  let code = reader.bit();
  let len = 1;
  while (code > t.maxCode[len]) {
    code = (code << 1) | reader.bit();
    len++;
    if (len > 16) throw new Error('corrupt JPEG data: bad Huffman code');
  }
  return t.values[t.valPtr[len] + code - t.minCode[len]];
}

function extend(v: number, s: number): number {
  return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
}

/**
 * Decodes one scan into the components' coefficient grids; returns the position of the marker after
 * the entropy-coded data. One component: blocks in raster order over the component's own size
 * (non-interleaved, T.81 A.2.2); several: MCU by MCU (A.2.3).
 */
function decodeScan(data: Uint8Array, start: number, frame: Frame, components: FrameComponent[], quant: Array<Int32Array | undefined>, restartInterval: number): number {
  const reader = new BitReader(data, start);
  for (const c of components) c.pred = 0;
  const single = components.length === 1;
  const c0 = components[0];
  const unitsX = single ? Math.ceil(Math.ceil((frame.width * c0.h) / frame.hMax) / 8) : frame.mcusX;
  const unitsY = single ? Math.ceil(Math.ceil((frame.height * c0.v) / frame.vMax) / 8) : frame.mcusY;
  let unit = 0;
  for (let uy = 0; uy < unitsY; uy++) {
    for (let ux = 0; ux < unitsX; ux++, unit++) {
      if (restartInterval && unit > 0 && unit % restartInterval === 0) {
        reader.restart();
        for (const c of components) c.pred = 0;
      }
      if (single) {
        decodeBlock(reader, c0, uy * c0.blocksX + ux, quant[c0.quantId]!);
        continue;
      }
      for (const c of components) {
        for (let by = 0; by < c.v; by++) {
          for (let bx = 0; bx < c.h; bx++) decodeBlock(reader, c, (uy * c.v + by) * c.blocksX + ux * c.h + bx, quant[c.quantId]!);
        }
      }
    }
  }
  return reader.end();
}

function decodeBlock(reader: BitReader, c: FrameComponent, block: number, q: Int32Array): void {
  const coef = c.coefficients;
  const base = block * 64;
  const s = decodeHuffman(reader, c.dcTable!);
  c.pred += s ? extend(reader.receive(s), s) : 0;
  coef[base] = c.pred * q[0];
  for (let k = 1; k < 64; ) {
    const rs = decodeHuffman(reader, c.acTable!);
    const r = rs >> 4;
    const size = rs & 15;
    if (size === 0) {
      if (r !== 15) break;
      k += 16;
      continue;
    }
    k += r;
    if (k > 63) throw new Error('corrupt JPEG data: AC run past the block');
    const z = ZIGZAG[k];
    coef[base + z] = extend(reader.receive(size), size) * q[z];
    k++;
  }
}

/** Inverse DCT of a component's blocks, cropped to its plane size. */
function planeOf(c: FrameComponent, frame: Frame): DctComponent {
  const width = Math.ceil((frame.width * c.h) / frame.hMax);
  const height = Math.ceil((frame.height * c.v) / frame.vMax);
  const out = new Uint16Array(width * height);
  const idct = islowIdct(frame.precision);
  const block = new Uint16Array(64);
  const blocksX = Math.ceil(width / 8);
  const blocksY = Math.ceil(height / 8);
  for (let by = 0; by < blocksY; by++) {
    for (let bx = 0; bx < blocksX; bx++) {
      idct(c.coefficients.subarray((by * c.blocksX + bx) * 64, (by * c.blocksX + bx + 1) * 64), block);
      const x0 = bx * 8;
      const y0 = by * 8;
      for (let y = 0; y < 8 && y0 + y < height; y++) {
        for (let x = 0; x < 8 && x0 + x < width; x++) out[(y0 + y) * width + x0 + x] = block[y * 8 + x];
      }
    }
  }
  return { id: c.id, h: c.h, v: c.v, width, height, samples: out };
}

/**
 * libjpeg's jpeg_idct_islow (jidctint.c): CONST_BITS 13, PASS1_BITS 2 (8-bit) or 1 (12/16-bit), then the
 * range-limit table (values wrap modulo 4 * 2^precision before clamping). Doubles hold libjpeg's INT32
 * products exactly; shifts are floor divisions by powers of two. Precision 16 is not in T.81: GDCM writes
 * it for lossy 16-bit-allocated data (`gdcmconv -J --lossy`). Samples wrap to 16 bits instead of clamping
 * (an undershoot of -6 reads 65530), which gives GDCM's (pydicom's) values for the 10-14-bit files tested;
 * with Bits Stored 16 some GDCM files decode 32768 apart from ours (docs/convert.md, cause unknown).
 */
function islowIdct(precision: number): (coef: Float64Array, out: Uint16Array) => void {
  const CONST = 2 ** 13;
  const pass1 = precision === 8 ? 2 : 1;
  const maxSample = 2 ** precision - 1;
  const center = 2 ** (precision - 1);
  const rangeMask = (maxSample + 1) * 4 - 1;
  const descale = (x: number, n: number) => Math.floor((x + 2 ** (n - 1)) / 2 ** n);
  const limit = (x: number) => {
    if (precision === 16) return (x + center) & 0xffff;
    let t = x & rangeMask;
    if (t >= 2 * (maxSample + 1)) t -= 4 * (maxSample + 1);
    t += center;
    return t < 0 ? 0 : t > maxSample ? maxSample : t;
  };
  const F0298 = 2446, F0390 = 3196, F0541 = 4433, F0765 = 6270, F0899 = 7373, F1175 = 9633;
  const F1501 = 12299, F1847 = 15137, F1961 = 16069, F2053 = 16819, F2562 = 20995, F3072 = 25172;
  const ws = new Float64Array(64);

  /** One 8-point 1-D IDCT over in[i0 + k * step]; returns the 8 outputs before descaling. */
  const oneD = (v: Float64Array, i0: number, step: number, res: Float64Array) => {
    let z2 = v[i0 + 2 * step];
    let z3 = v[i0 + 6 * step];
    let z1 = (z2 + z3) * F0541;
    const t2 = z1 + z3 * -F1847;
    const t3 = z1 + z2 * F0765;
    z2 = v[i0];
    z3 = v[i0 + 4 * step];
    const t0 = (z2 + z3) * CONST;
    const t1 = (z2 - z3) * CONST;
    const t10 = t0 + t3, t13 = t0 - t3, t11 = t1 + t2, t12 = t1 - t2;
    let o0 = v[i0 + 7 * step], o1 = v[i0 + 5 * step], o2 = v[i0 + 3 * step], o3 = v[i0 + step];
    z1 = o0 + o3;
    z2 = o1 + o2;
    z3 = o0 + o2;
    let z4 = o1 + o3;
    const z5 = (z3 + z4) * F1175;
    o0 *= F0298;
    o1 *= F2053;
    o2 *= F3072;
    o3 *= F1501;
    z1 *= -F0899;
    z2 *= -F2562;
    z3 = z3 * -F1961 + z5;
    z4 = z4 * -F0390 + z5;
    o0 += z1 + z3;
    o1 += z2 + z4;
    o2 += z2 + z3;
    o3 += z1 + z4;
    res[0] = t10 + o3;
    res[7] = t10 - o3;
    res[1] = t11 + o2;
    res[6] = t11 - o2;
    res[2] = t12 + o1;
    res[5] = t12 - o1;
    res[3] = t13 + o0;
    res[4] = t13 - o0;
  };
  const tmp = new Float64Array(8);
  return (coef, out) => {
    for (let c = 0; c < 8; c++) {
      oneD(coef, c, 8, tmp);
      for (let r = 0; r < 8; r++) ws[r * 8 + c] = descale(tmp[r], 13 - pass1);
    }
    for (let r = 0; r < 8; r++) {
      oneD(ws, r * 8, 1, tmp);
      for (let c = 0; c < 8; c++) out[r * 8 + c] = limit(descale(tmp[c], 13 + pass1 + 3));
    }
  };
}
