/**
 * A small JPEG Lossless (T.81 Annex H, SOF3) encoder for tests, able to write the stream variants other
 * vendors' encoders produce and Debian's dcmtk/GDCM encoders do not: restart intervals with RSTn markers,
 * one scan per component, a point transform, a DNL marker instead of the height, 0xFF fill bytes before
 * markers, every predictor. Differences use one fixed Huffman table of all 17 categories.
 */
export interface LosslessOptions {
  width: number;
  height: number;
  precision: number;
  components: number;
  /** Selection value 1-7. */
  predictor: number;
  /** Point transform (Al): samples are coded shifted right by this many bits (their low bits must be 0 to be lossless). */
  pointTransform?: number;
  /** Restart interval in MCUs (0: none). */
  restartInterval?: number;
  /** One scan per component instead of one interleaved scan. */
  separateScans?: boolean;
  /** Height 0 in the frame header and a DNL marker after the first scan. */
  dnl?: boolean;
  /** Extra 0xFF fill bytes before each marker after entropy-coded data. */
  fillBytes?: number;
}

// Code lengths of the 17 difference categories (Kraft sum < 1: the all-ones codes stay unused).
const LENGTHS = [2, 3, 3, 3, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];

function huffmanCodes(): { counts: number[]; symbols: number[]; code: number[]; size: number[] } {
  const order = LENGTHS.map((len, symbol) => ({ len, symbol })).sort((a, b) => a.len - b.len || a.symbol - b.symbol);
  const counts = new Array(16).fill(0);
  for (const o of order) counts[o.len - 1]++;
  const code = new Array(17).fill(0);
  const size = new Array(17).fill(0);
  let c = 0;
  let len = order[0].len;
  for (const o of order) {
    c <<= o.len - len;
    len = o.len;
    code[o.symbol] = c++;
    size[o.symbol] = o.len;
  }
  return { counts, symbols: order.map((o) => o.symbol), code, size };
}

class BitWriter {
  readonly bytes: number[] = [];
  private acc = 0;
  private n = 0;
  put(value: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }
  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0x00);
    this.acc = 0;
    this.n = 0;
  }
  /** Pads with 1 bits to a byte boundary (T.81 F.1.2.3). */
  align(): void {
    while (this.n !== 0) this.put(1, 1);
  }
}

const predict = (p: number, ra: number, rb: number, rc: number): number =>
  [0, ra, rb, rc, ra + rb - rc, ra + ((rb - rc) >> 1), rb + ((ra - rc) >> 1), (ra + rb) >> 1][p];

/** Encodes interleaved samples (`width * height * components`, each < 2^precision). */
export function encodeLosslessJpeg(samples: ArrayLike<number>, o: LosslessOptions): Uint8Array {
  const pt = o.pointTransform ?? 0;
  const ri = o.restartInterval ?? 0;
  const fill = () => new Array(o.fillBytes ?? 0).fill(0xff);
  const h = huffmanCodes();
  const out: number[] = [0xff, 0xd8];
  const segment = (marker: number, body: number[]) => out.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body);
  const height = o.dnl ? 0 : o.height;
  segment(0xc3, [o.precision, height >> 8, height & 0xff, o.width >> 8, o.width & 0xff, o.components, ...Array.from({ length: o.components }, (_, c) => [c + 1, 0x11, 0]).flat()]);
  segment(0xc4, [0x00, ...h.counts, ...h.symbols]);
  if (ri) segment(0xdd, [ri >> 8, ri & 0xff]);
  const scans = o.separateScans ? Array.from({ length: o.components }, (_, c) => [c]) : [Array.from({ length: o.components }, (_, c) => c)];
  scans.forEach((scan, index) => {
    segment(0xda, [scan.length, ...scan.flatMap((c) => [c + 1, 0x00]), o.predictor, 0, pt]);
    const bits = new BitWriter();
    const initial = 1 << (o.precision - pt - 1);
    const value = (x: number, y: number, c: number) => samples[(y * o.width + x) * o.components + c] >> pt;
    let mcu = 0;
    let firstLine = true;
    let reset = true;
    let rst = 0;
    for (let y = 0; y < o.height; y++) {
      if (y > 0) firstLine = false;
      for (let x = 0; x < o.width; x++, mcu++) {
        if (ri && mcu > 0 && mcu % ri === 0) {
          bits.align();
          out.push(...bits.bytes.splice(0), ...fill(), 0xff, 0xd0 + (rst++ % 8));
          reset = true;
          firstLine = true;
        }
        for (const c of scan) {
          const px = reset ? initial : firstLine ? value(x - 1, y, c) : x === 0 ? value(0, y - 1, c) : predict(o.predictor, value(x - 1, y, c), value(x, y - 1, c), value(x - 1, y - 1, c));
          let diff = (value(x, y, c) - px) & 0xffff;
          if (diff >= 32768) diff -= 65536;
          const ssss = diff === -32768 ? 16 : diff === 0 ? 0 : 32 - Math.clz32(Math.abs(diff));
          bits.put(h.code[ssss], h.size[ssss]);
          if (ssss > 0 && ssss < 16) bits.put(diff < 0 ? diff + (1 << ssss) - 1 : diff, ssss);
        }
        reset = false;
      }
    }
    bits.align();
    out.push(...bits.bytes, ...fill());
    if (o.dnl && index === 0) segment(0xdc, [o.height >> 8, o.height & 0xff]);
  });
  out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}
