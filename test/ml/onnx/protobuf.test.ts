import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtoWriter } from '../../../src/ml/onnx/protobuf.ts';
import { DataType, encodeAttribute, encodeModel, encodeNode, encodeTensor, encodeValueInfo } from '../../../src/ml/onnx/onnx-model.ts';
import { loadOnnxRuntime } from '../../../src/ml/onnx/runtime.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex').replace(/(..)(?!$)/g, '$1 ');

test('protobuf wire encoding: varints (multi-byte, negative), float, string, packed varints and floats', () => {
  assert.equal(hex(new ProtoWriter().varint(1, 300).finish()), '08 ac 02'); // 300 = 0b10_0101100: 0xac 0x02
  assert.equal(hex(new ProtoWriter().varint(3, -1).finish()), '18 ff ff ff ff ff ff ff ff ff 01'); // int64 two's complement: 10 bytes
  assert.equal(hex(new ProtoWriter().float(2, 1.5).finish()), '15 00 00 c0 3f'); // wire type 5, 0x3fc00000 little-endian
  assert.equal(hex(new ProtoWriter().string(4, 'hi').finish()), '22 02 68 69');
  assert.equal(hex(new ProtoWriter().packedVarints(8, [0, 3, 1, 2]).finish()), '42 04 00 03 01 02');
  assert.equal(hex(new ProtoWriter().packedFloats(4, [1, -2]).finish()), '22 08 00 00 80 3f 00 00 00 c0');
  assert.equal(hex(new ProtoWriter().varint(20, 7).finish()), 'a0 01 07'); // field 20: tag 160 takes two bytes
  assert.throws(() => new ProtoWriter().varint(1, 1.5), /integer/);
});

test('a large message grows the buffer and keeps every byte', () => {
  const data = new Float32Array(10_000).map((_, i) => i);
  const bytes = new ProtoWriter().packedFloats(1, data).finish();
  assert.equal(hex(bytes.subarray(0, 4)), '0a c0 b8 02'); // length 40000 = 0x9c40 -> varint c0 b8 02
  assert.deepEqual(new Float32Array(bytes.slice(4).buffer), data);
});

test('ONNX messages: node, attributes, tensor, value info and model with the field numbers of onnx.proto', () => {
  // NodeProto: input (1) "x", output (2) "y", op_type (4) "Relu"
  assert.equal(hex(encodeNode({ opType: 'Relu', inputs: ['x'], outputs: ['y'] })), '0a 01 78 12 01 79 22 04 52 65 6c 75');
  // AttributeProto: name (1) "perm", ints (8) packed, type (20) INTS = 7
  assert.equal(hex(encodeAttribute({ name: 'perm', ints: [0, 3, 1, 2] })), '0a 04 70 65 72 6d 42 04 00 03 01 02 a0 01 07');
  // i (3) = -1, type INT = 2
  assert.equal(hex(encodeAttribute({ name: 'axis', int: -1 })), '0a 04 61 78 69 73 18 ff ff ff ff ff ff ff ff ff 01 a0 01 02');
  // f (2) = 1e-5 (0x3727c5ac), type FLOAT = 1
  assert.equal(hex(encodeAttribute({ name: 'eps', float: 1e-5 })), '0a 03 65 70 73 15 ac c5 27 37 a0 01 01');
  // TensorProto: dims (1) [2], data_type (2) FLOAT, name (8) "c", raw_data (9) 1.0 2.0 little-endian
  assert.equal(hex(encodeTensor({ name: 'c', dims: [2], dataType: DataType.FLOAT, data: new Float32Array([1, 2]) })), '0a 01 02 10 01 42 01 63 4a 08 00 00 80 3f 00 00 00 40');
  // int64 tensor: int64_data (7)
  assert.equal(hex(encodeTensor({ name: 'a', dims: [2], dataType: DataType.INT64, data: [2, 3] })), '0a 01 02 10 07 3a 02 02 03 42 01 61');
  assert.throws(() => encodeTensor({ name: 'bad', dims: [3], dataType: DataType.FLOAT, data: new Float32Array(2) }), /2 values for dims \[3\]/);
  // ValueInfoProto "x": type (2) { tensor_type (1) { elem_type (1) FLOAT, shape (2) { dim { dim_param (2) "N" }, dim { dim_value (1) 3 } } } }
  assert.equal(hex(encodeValueInfo({ name: 'x', elemType: DataType.FLOAT, shape: ['N', 3] })), '0a 01 78 12 0f 0a 0d 08 01 12 09 0a 03 12 01 4e 0a 02 08 03');
  // ModelProto: ir_version (1) 8, producer_name (2) "p", graph (7) { name (2) "g" }, opset_import (8) { version (2) 17 }
  const model = encodeModel({ irVersion: 8, opsetVersion: 17, producerName: 'p', graph: { name: 'g', nodes: [], initializers: [], inputs: [], outputs: [] } });
  assert.equal(hex(model), '08 08 12 01 70 3a 03 12 01 67 42 02 10 11');
});

test('ONNX Runtime loads a hand-built model and computes it (NHWC -> NCHW, add, clip)', async (t) => {
  const ort = await loadOnnxRuntime();
  if (!ort) return t.skip('onnxruntime-node is not installed');
  const bytes = encodeModel({
    irVersion: 8,
    opsetVersion: 17,
    producerName: 'test',
    graph: {
      name: 'g',
      nodes: [
        { opType: 'Transpose', inputs: ['x'], outputs: ['t'], attributes: [{ name: 'perm', ints: [0, 3, 1, 2] }] },
        { opType: 'Add', inputs: ['t', 'c'], outputs: ['s'] },
        { opType: 'Clip', inputs: ['s', 'lo', 'hi'], outputs: ['y'] },
      ],
      initializers: [
        { name: 'c', dims: [1, 2, 1, 1], dataType: DataType.FLOAT, data: new Float32Array([-1.5, 10]) },
        { name: 'lo', dims: [], dataType: DataType.FLOAT, data: new Float32Array([0]) },
        { name: 'hi', dims: [], dataType: DataType.FLOAT, data: new Float32Array([6]) },
      ],
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['N', 1, 2, 2] }],
      outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['N', 2, 1, 2] }],
    },
  });
  const session = await ort.InferenceSession.create(bytes);
  // one image 1x2 with two channels: pixel 0 = (1, -20), pixel 1 = (3, -5)
  const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, -20, 3, -5]), [1, 1, 2, 2]) });
  assert.deepEqual(out.y.dims, [1, 2, 1, 2]);
  assert.deepEqual(Array.from(out.y.data as Float32Array), [0, 1.5, 0, 5]); // channel 0: 1-1.5, 3-1.5 clipped; channel 1: -20+10, -5+10
  await session.release();
});
