/**
 * A minimal protocol-buffers reader (the counterpart of protobuf.ts): walks a message's fields as
 * (field number, wire type, value). Varints are read as numbers (exact below 2^53; int64 fields of
 * ONNX hold dims and attributes, far below that), negative int64 as two's complement.
 */
export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const;

export interface ProtoField {
  field: number;
  wire: number;
  /** Varint value (wire 0). */
  int: number;
  /** Bytes of a length-delimited field (wire 2), or the 4/8 raw bytes of a fixed field. */
  bytes: Uint8Array;
}

const utf8 = new TextDecoder();

export class ProtoReader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  /** Every field of the message, in order. */
  static fields(buf: Uint8Array): ProtoField[] {
    const r = new ProtoReader(buf);
    const out: ProtoField[] = [];
    while (!r.done()) out.push(r.next());
    return out;
  }

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  next(): ProtoField {
    const tag = this.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    const empty = this.buf.subarray(0, 0);
    switch (wire) {
      case WireType.Varint:
        return { field, wire, int: this.varint(), bytes: empty };
      case WireType.LengthDelimited: {
        const len = this.varint();
        return { field, wire, int: 0, bytes: this.take(len) };
      }
      case WireType.Fixed32:
        return { field, wire, int: 0, bytes: this.take(4) };
      case WireType.Fixed64:
        return { field, wire, int: 0, bytes: this.take(8) };
      default:
        throw new Error(`protobuf: unsupported wire type ${wire} (field ${field}) at byte ${this.pos}`);
    }
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new Error('protobuf: truncated varint');
      const byte = this.buf[this.pos++];
      if (i === 7) return this.bigVarint(start); // past 49 bits: exact with BigInt (negative int64 use all 10 bytes)
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    throw new Error('protobuf: varint longer than 10 bytes');
  }

  private bigVarint(start: number): number {
    this.pos = start;
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (this.pos >= this.buf.length || shift > 63n) throw new Error('protobuf: bad varint');
      const byte = this.buf[this.pos++];
      v |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    return Number(BigInt.asIntN(64, v)); // int64 as two's complement
  }

  private take(len: number): Uint8Array {
    if (this.pos + len > this.buf.length) throw new Error(`protobuf: field of ${len} bytes runs past the end (byte ${this.pos} of ${this.buf.length})`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
}

export function decodeString(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** Packed varints (proto3 style, or proto2 `[packed=true]`). */
export function decodePackedVarints(bytes: Uint8Array): number[] {
  const r = new ProtoReader(bytes);
  const out: number[] = [];
  while (!r.done()) out.push(r.varint());
  return out;
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian float32 values (a copy, aligned). */
export function decodeFloats(bytes: Uint8Array): Float32Array {
  if (littleEndianHost) {
    const copy = new Uint8Array(bytes.length); // (Buffer#slice would be a view, unaligned)
    copy.set(bytes);
    return new Float32Array(copy.buffer);
  }
  const out = new Float32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
