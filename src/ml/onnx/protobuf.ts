/**
 * A minimal protocol-buffers writer: the field encodings ONNX's messages need (varint, 32-bit float,
 * length-delimited bytes/strings/messages, packed repeated varints and floats). Nested messages are
 * encoded first and written as bytes. Proto2 parsers (ONNX's schema is proto2) accept the packed form
 * of repeated scalars as well as the unpacked one.
 */
const WireType = { Varint: 0, LengthDelimited: 2, Fixed32: 5 } as const;
type WireType = (typeof WireType)[keyof typeof WireType];

const utf8 = new TextEncoder();

export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  /** Non-negative integers below 2^53 and negative ones (as 64-bit two's complement: int32/int64 fields). */
  varint(field: number, value: number): this {
    this.tag(field, WireType.Varint);
    this.rawVarint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WireType.Fixed32);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, value, true);
    this.len += 4;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** Length-delimited bytes: a `bytes` field or an encoded nested message. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.LengthDelimited);
    this.rawVarint(value.length);
    this.reserve(value.length);
    this.buf.set(value, this.len);
    this.len += value.length;
    return this;
  }

  message(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  packedVarints(field: number, values: readonly number[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(v);
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: ArrayLike<number>): this {
    const data = Float32Array.from(values);
    return this.bytes(field, littleEndianBytes(data));
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  private tag(field: number, wire: WireType): void {
    this.rawVarint(field * 8 + wire);
  }

  private rawVarint(value: number): void {
    if (!Number.isInteger(value)) throw new Error(`protobuf varint must be an integer, got ${value}`);
    this.reserve(10);
    if (value >= 0) {
      while (value >= 0x80) {
        this.buf[this.len++] = (value % 0x80) | 0x80;
        value = Math.floor(value / 0x80);
      }
      this.buf[this.len++] = value;
      return;
    }
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }
}

/** The little-endian bytes of a float32 array (a copy on big-endian hosts). */
export function littleEndianBytes(data: Float32Array): Uint8Array {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}
