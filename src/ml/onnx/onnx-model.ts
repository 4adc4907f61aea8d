import { littleEndianBytes, ProtoWriter } from './protobuf.ts';

/**
 * Typed encoders for the ONNX messages an inference graph needs, with the field numbers of onnx.proto:
 * ModelProto, OperatorSetIdProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto
 * (TypeProto.Tensor, TensorShapeProto).
 */

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;
export type DataType = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values used here. */
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

export type OnnxAttribute = { name: string } & ({ int: number } | { ints: readonly number[] } | { float: number } | { string: string });

export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attributes?: readonly OnnxAttribute[];
  /** Operator set domain (e.g. ONNX Runtime's "com.microsoft.nchwc"); the default set when absent. */
  domain?: string;
}

/** A constant tensor (initializer): float32 data is stored as raw little-endian bytes. */
export type OnnxTensor = { name: string; dims: readonly number[] } & ({ dataType: typeof DataType.FLOAT; data: Float32Array } | { dataType: typeof DataType.INT64; data: readonly number[] });

/** A graph input/output: element type and shape (a string names a symbolic dimension, e.g. the batch). */
export interface OnnxValueInfo {
  name: string;
  elemType: DataType;
  shape: ReadonlyArray<number | string>;
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxTensor[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  /** Version of the default ("ai.onnx") operator set. */
  opsetVersion: number;
  /** Other operator sets the nodes use (their `domain`), with their versions. */
  extraOpsets?: readonly { domain: string; version: number }[];
  producerName: string;
  producerVersion?: string;
  graph: OnnxGraph;
}

export function encodeModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.varint(1, model.irVersion);
  w.string(2, model.producerName);
  if (model.producerVersion) w.string(3, model.producerVersion);
  w.bytes(7, encodeGraph(model.graph));
  w.message(8, (opset) => opset.varint(2, model.opsetVersion)); // domain (field 1) empty: the default operator set
  for (const { domain, version } of model.extraOpsets ?? []) w.message(8, (opset) => opset.string(1, domain).varint(2, version));
  return w.finish();
}

export function encodeGraph(graph: OnnxGraph): Uint8Array {
  const w = new ProtoWriter();
  for (const node of graph.nodes) w.bytes(1, encodeNode(node));
  w.string(2, graph.name);
  for (const tensor of graph.initializers) w.bytes(5, encodeTensor(tensor));
  for (const input of graph.inputs) w.bytes(11, encodeValueInfo(input));
  for (const output of graph.outputs) w.bytes(12, encodeValueInfo(output));
  return w.finish();
}

export function encodeNode(node: OnnxNode): Uint8Array {
  const w = new ProtoWriter();
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  if (node.name) w.string(3, node.name);
  w.string(4, node.opType);
  for (const attribute of node.attributes ?? []) w.bytes(5, encodeAttribute(attribute));
  if (node.domain) w.string(7, node.domain);
  return w.finish();
}

export function encodeAttribute(a: OnnxAttribute): Uint8Array {
  const w = new ProtoWriter();
  w.string(1, a.name);
  if ('float' in a) w.float(2, a.float).varint(20, AttributeType.FLOAT);
  else if ('int' in a) w.varint(3, a.int).varint(20, AttributeType.INT);
  else if ('string' in a) w.string(4, a.string).varint(20, AttributeType.STRING);
  else w.packedVarints(8, a.ints).varint(20, AttributeType.INTS);
  return w.finish();
}

export function encodeTensor(t: OnnxTensor): Uint8Array {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) throw new Error(`tensor ${t.name}: ${t.data.length} values for dims [${t.dims.join(', ')}]`);
  const w = new ProtoWriter();
  w.packedVarints(1, t.dims);
  w.varint(2, t.dataType);
  if (t.dataType === DataType.INT64) w.packedVarints(7, t.data);
  w.string(8, t.name);
  if (t.dataType === DataType.FLOAT) w.bytes(9, littleEndianBytes(t.data));
  return w.finish();
}

export function encodeValueInfo(v: OnnxValueInfo): Uint8Array {
  const w = new ProtoWriter();
  w.string(1, v.name);
  // TypeProto { tensor_type (1): { elem_type (1), shape (2): TensorShapeProto { dim (1): { dim_value (1) | dim_param (2) } } } }
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.varint(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => (typeof d === 'number' ? dim.varint(1, d) : dim.string(2, d)));
      });
    }),
  );
  return w.finish();
}
