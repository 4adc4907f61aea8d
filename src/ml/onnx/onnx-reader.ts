import { decodeFloats, decodePackedVarints, decodeString, ProtoReader, WireType } from './protobuf-reader.ts';

/**
 * Decodes the parts of an ONNX ModelProto that weight import needs (field numbers of onnx.proto):
 * the graph's nodes with their attributes, initializers and Constant-node values as float32 or int64
 * arrays, and the graph inputs/outputs with their shapes.
 */
export interface ReadTensor {
  name: string;
  dims: number[];
  /** FLOAT / DOUBLE / FLOAT16 as float32; integer types as numbers. */
  data: Float32Array | number[];
}

export type ReadAttribute = { name: string; int?: number; float?: number; string?: string; ints?: number[]; floats?: number[]; tensor?: ReadTensor };

export interface ReadNode {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, ReadAttribute>;
}

export interface ReadValueInfo {
  name: string;
  /** Numbers, or the symbolic name of a dimension (e.g. the batch). */
  shape: Array<number | string>;
}

export interface ReadModel {
  irVersion: number;
  opsetVersion: number;
  producer: string;
  nodes: ReadNode[];
  /** Initializers and the values of Constant nodes, by value name. */
  constants: Map<string, ReadTensor>;
  inputs: ReadValueInfo[];
  outputs: ReadValueInfo[];
}

const TensorType = { FLOAT: 1, UINT8: 2, INT8: 3, INT16: 5, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;

export class OnnxReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxReadError';
  }
}

export function readOnnxModel(bytes: Uint8Array): ReadModel {
  try {
    return parseOnnxModel(bytes);
  } catch (e) {
    // the protobuf reader's errors: the bytes are not (all of) a protobuf message
    if (e instanceof OnnxReadError || !(e instanceof Error && e.message.startsWith('protobuf:'))) throw e;
    const truncated = /runs past the end|truncated/.test(e.message);
    throw new OnnxReadError(truncated ? `the file ends before its data does: truncated (an interrupted download or copy?) or not an ONNX model (${e.message})` : `not an ONNX model (${e.message})`);
  }
}

function parseOnnxModel(bytes: Uint8Array): ReadModel {
  const fields = ProtoReader.fields(bytes);
  const model: ReadModel = { irVersion: 0, opsetVersion: 0, producer: '', nodes: [], constants: new Map(), inputs: [], outputs: [] };
  let graph: Uint8Array | undefined;
  for (const f of fields) {
    if (f.field === 1 && f.wire === WireType.Varint) model.irVersion = f.int;
    else if (f.field === 2 && f.wire === WireType.LengthDelimited) model.producer = decodeString(f.bytes);
    else if (f.field === 7 && f.wire === WireType.LengthDelimited) graph = f.bytes;
    else if (f.field === 8 && f.wire === WireType.LengthDelimited) {
      let domain = '';
      let version = 0;
      for (const o of ProtoReader.fields(f.bytes)) {
        if (o.field === 1) domain = decodeString(o.bytes);
        if (o.field === 2) version = o.int;
      }
      if (domain === '' || domain === 'ai.onnx') model.opsetVersion = version;
    }
  }
  if (!graph || model.irVersion === 0) throw new OnnxReadError('not an ONNX model (no graph or IR version)');
  for (const f of ProtoReader.fields(graph)) {
    if (f.wire !== WireType.LengthDelimited) continue;
    if (f.field === 1) model.nodes.push(readNode(f.bytes));
    else if (f.field === 5) {
      const t = readTensor(f.bytes);
      model.constants.set(t.name, t);
    } else if (f.field === 11) model.inputs.push(readValueInfo(f.bytes));
    else if (f.field === 12) model.outputs.push(readValueInfo(f.bytes));
  }
  // Constant nodes, and Identity nodes of constants (PyTorch shares equal initializers that way).
  for (const node of model.nodes) {
    const value = node.opType === 'Constant' ? node.attributes.get('value')?.tensor : node.opType === 'Identity' ? model.constants.get(node.inputs[0]) : undefined;
    if (value) model.constants.set(node.outputs[0], { ...value, name: node.outputs[0] });
  }
  // Graph inputs that are initializers (older exporters list weights as inputs too) are not data inputs.
  model.inputs = model.inputs.filter((i) => !model.constants.has(i.name));
  return model;
}

function readNode(bytes: Uint8Array): ReadNode {
  const node: ReadNode = { opType: '', domain: '', name: '', inputs: [], outputs: [], attributes: new Map() };
  for (const f of ProtoReader.fields(bytes)) {
    if (f.field === 1) node.inputs.push(decodeString(f.bytes));
    else if (f.field === 2) node.outputs.push(decodeString(f.bytes));
    else if (f.field === 3) node.name = decodeString(f.bytes);
    else if (f.field === 4) node.opType = decodeString(f.bytes);
    else if (f.field === 7) node.domain = decodeString(f.bytes);
    else if (f.field === 5) {
      const a = readAttribute(f.bytes);
      node.attributes.set(a.name, a);
    }
  }
  return node;
}

function readAttribute(bytes: Uint8Array): ReadAttribute {
  const a: ReadAttribute = { name: '' };
  for (const f of ProtoReader.fields(bytes)) {
    if (f.field === 1) a.name = decodeString(f.bytes);
    else if (f.field === 2) a.float = decodeFloats(f.bytes)[0];
    else if (f.field === 3) a.int = f.int;
    else if (f.field === 4) a.string = decodeString(f.bytes);
    else if (f.field === 5) a.tensor = readTensor(f.bytes);
    else if (f.field === 7) (a.floats ??= []).push(...decodeFloats(f.bytes));
    else if (f.field === 8) (a.ints ??= []).push(...(f.wire === WireType.LengthDelimited ? decodePackedVarints(f.bytes) : [f.int]));
  }
  return a;
}

function readTensor(bytes: Uint8Array): ReadTensor {
  const dims: number[] = [];
  let type: number = TensorType.FLOAT;
  let name = '';
  let raw: Uint8Array | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  const doubles: number[] = [];
  let external = false;
  for (const f of ProtoReader.fields(bytes)) {
    if (f.field === 1) dims.push(...(f.wire === WireType.LengthDelimited ? decodePackedVarints(f.bytes) : [f.int]));
    else if (f.field === 2) type = f.int;
    else if (f.field === 4) floats.push(...decodeFloats(f.bytes));
    else if (f.field === 5 || f.field === 7) ints.push(...(f.wire === WireType.LengthDelimited ? decodePackedVarints(f.bytes) : [f.int]));
    else if (f.field === 8) name = decodeString(f.bytes);
    else if (f.field === 9) raw = f.bytes;
    else if (f.field === 10) {
      const view = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
      if (f.wire === WireType.Fixed64) doubles.push(view.getFloat64(0, true));
      else for (let i = 0; i < f.bytes.length; i += 8) doubles.push(view.getFloat64(i, true));
    } else if (f.field === 14 && f.int === 1) external = true;
  }
  if (external) throw new OnnxReadError(`tensor ${name} is stored as external data (a separate file): export the model with its weights inside the .onnx file`);
  const count = dims.reduce((a, b) => a * b, 1);
  let data: Float32Array | number[];
  if (type === TensorType.FLOAT) data = raw ? decodeFloats(raw) : Float32Array.from(floats);
  else if (type === TensorType.DOUBLE) data = Float32Array.from(raw ? Array.from({ length: raw.length / 8 }, (_, i) => new DataView(raw!.buffer, raw!.byteOffset).getFloat64(i * 8, true)) : doubles);
  else if (type === TensorType.FLOAT16) data = raw ? halfFloats(raw) : Float32Array.from(ints.map(halfToFloat));
  else if (type === TensorType.INT64) data = raw ? Array.from({ length: raw.length / 8 }, (_, i) => Number(new DataView(raw!.buffer, raw!.byteOffset).getBigInt64(i * 8, true))) : ints;
  else if (type === TensorType.INT32 || type === TensorType.INT16 || type === TensorType.INT8 || type === TensorType.UINT8 || type === TensorType.BOOL) data = raw ? rawInts(raw, type) : ints;
  else throw new OnnxReadError(`tensor ${name}: data type ${type} is not supported`);
  if (data.length !== count) throw new OnnxReadError(`tensor ${name}: ${data.length} values for dims [${dims.join(', ')}]`);
  return { name, dims, data };
}

function rawInts(raw: Uint8Array, type: number): number[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const size = type === TensorType.INT32 ? 4 : type === TensorType.INT16 ? 2 : 1;
  return Array.from({ length: raw.length / size }, (_, i) => (size === 4 ? view.getInt32(i * 4, true) : size === 2 ? view.getInt16(i * 2, true) : type === TensorType.INT8 ? view.getInt8(i) : view.getUint8(i)));
}

function halfFloats(raw: Uint8Array): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Float32Array.from({ length: raw.length / 2 }, (_, i) => halfToFloat(view.getUint16(i * 2, true)));
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function readValueInfo(bytes: Uint8Array): ReadValueInfo {
  const info: ReadValueInfo = { name: '', shape: [] };
  for (const f of ProtoReader.fields(bytes)) {
    if (f.field === 1) info.name = decodeString(f.bytes);
    if (f.field !== 2) continue;
    for (const t of ProtoReader.fields(f.bytes)) {
      if (t.field !== 1) continue; // tensor_type
      for (const s of ProtoReader.fields(t.bytes)) {
        if (s.field !== 2) continue; // shape
        for (const d of ProtoReader.fields(s.bytes)) {
          if (d.field !== 1) continue;
          let dim: number | string = '?';
          for (const v of ProtoReader.fields(d.bytes)) {
            if (v.field === 1) dim = v.int;
            if (v.field === 2) dim = decodeString(v.bytes);
          }
          info.shape.push(dim);
        }
      }
    }
  }
  return info;
}
