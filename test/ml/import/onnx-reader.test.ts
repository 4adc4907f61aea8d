import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtoWriter } from '../../../src/ml/onnx/protobuf.ts';
import { DataType, encodeModel, encodeNode, encodeTensor, encodeValueInfo } from '../../../src/ml/onnx/onnx-model.ts';
import { OnnxReadError, readOnnxModel } from '../../../src/ml/onnx/onnx-reader.ts';
import { onnxLayers } from '../../../src/ml/import/onnx-layers.ts';

/** A graph x -> Conv(W from a Constant node, B via Identity of an initializer) -> Relu -> GlobalAveragePool -> Flatten -> Gemm. */
function handMadeModel(): Uint8Array {
  const weight = Float32Array.from({ length: 4 * 3 * 3 * 3 }, (_, i) => i / 100);
  const constantNode = new ProtoWriter()
    .string(2, 'W')
    .string(4, 'Constant')
    .message(5, (a) => a.string(1, 'value').bytes(5, encodeTensor({ name: '', dims: [4, 3, 3, 3], dataType: DataType.FLOAT, data: weight })).varint(20, 4))
    .finish();
  const nodes = [
    encodeNode({ opType: 'Identity', inputs: ['bias0'], outputs: ['B'] }),
    encodeNode({ opType: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['c'], name: 'conv', attributes: [{ name: 'pads', ints: [1, 1, 1, 1] }, { name: 'strides', ints: [2, 2] }] }),
    encodeNode({ opType: 'Relu', inputs: ['c'], outputs: ['r'] }),
    encodeNode({ opType: 'GlobalAveragePool', inputs: ['r'], outputs: ['p'] }),
    encodeNode({ opType: 'Flatten', inputs: ['p'], outputs: ['f'] }),
    encodeNode({ opType: 'Gemm', inputs: ['f', 'fcW', 'fcB'], outputs: ['y'], name: 'fc', attributes: [{ name: 'transB', int: 1 }] }),
  ];
  const graph = new ProtoWriter();
  graph.bytes(1, constantNode);
  for (const n of nodes) graph.bytes(1, n);
  graph.string(2, 'g');
  graph.bytes(5, encodeTensor({ name: 'bias0', dims: [4], dataType: DataType.FLOAT, data: Float32Array.of(1, 2, 3, 4) }));
  graph.bytes(5, encodeTensor({ name: 'fcW', dims: [2, 4], dataType: DataType.FLOAT, data: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8) }));
  graph.bytes(5, encodeTensor({ name: 'fcB', dims: [2], dataType: DataType.FLOAT, data: Float32Array.of(0.5, -0.5) }));
  graph.bytes(11, encodeValueInfo({ name: 'x', elemType: DataType.FLOAT, shape: ['N', 3, 8, 8] }));
  graph.bytes(12, encodeValueInfo({ name: 'y', elemType: DataType.FLOAT, shape: ['N', 2] }));
  const model = new ProtoWriter().varint(1, 8).string(2, 'hand').bytes(7, graph.finish()).message(8, (o) => o.varint(2, 17));
  return model.finish();
}

test('reads Constant-node and Identity-shared weights, attributes, shapes; Gemm transB becomes [in, out]', () => {
  const model = readOnnxModel(handMadeModel());
  assert.equal(model.opsetVersion, 17);
  assert.equal(model.producer, 'hand');
  assert.deepEqual(model.inputs, [{ name: 'x', shape: ['N', 3, 8, 8] }]);
  const [conv, fc] = onnxLayers(model);
  assert.equal(conv.kind, 'conv');
  if (conv.kind !== 'conv' || fc.kind !== 'linear') throw new Error('kinds');
  assert.deepEqual(conv.weight.dims, [4, 3, 3, 3]);
  assert.equal((conv.weight.data as Float32Array)[107], Math.fround(1.07));
  assert.deepEqual(Array.from(conv.bias!.data), [1, 2, 3, 4]);
  assert.deepEqual([conv.strides, conv.pads], [[2, 2], [1, 1, 1, 1]]);
  assert.deepEqual([fc.inputs, fc.outputs], [4, 2]);
  assert.deepEqual(Array.from(fc.weight), [1, 5, 2, 6, 3, 7, 4, 8]);
  assert.deepEqual(Array.from(fc.bias!), [0.5, -0.5]);
});

test('our own encoder round-trips through the reader; garbage is an OnnxReadError', () => {
  const bytes = encodeModel({
    irVersion: 8,
    opsetVersion: 17,
    producerName: 'pipeline',
    graph: { name: 'g', nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }], initializers: [{ name: 'k', dims: [2], dataType: DataType.INT64, data: [-3, 5] }], inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [1, 2] }], outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [1, 2] }] },
  });
  const model = readOnnxModel(bytes);
  assert.deepEqual(model.constants.get('k')?.data, [-3, 5]);
  assert.equal(model.nodes[0].opType, 'Relu');
  assert.throws(() => readOnnxModel(new TextEncoder().encode('{"format": "layers-model"}')), OnnxReadError);
});
