import type { ReadModel, ReadNode, ReadTensor } from '../onnx/onnx-reader.ts';
import { structuralOrder } from './structural-order.ts';

/**
 * The weight-bearing layers of an ONNX graph (as exported from PyTorch: torchvision, timm) in
 * structural order, with their tensors in ONNX layout: convolutions, batch norms (absent when the
 * exporter folded them into the convolution before), linear layers (Gemm, or MatMul by a constant
 * with an optional constant Add after it).
 */
export type OnnxLayer =
  | { kind: 'conv'; node: ReadNode; weight: ReadTensor; bias?: ReadTensor; group: number; strides: number[]; pads: number[]; dilations: number[]; output: string }
  | { kind: 'batchnorm'; node: ReadNode; scale: ReadTensor; bias: ReadTensor; mean: ReadTensor; variance: ReadTensor; epsilon: number; input: string; output: string }
  | { kind: 'linear'; node: ReadNode; /** [in, out] */ weight: Float32Array; inputs: number; outputs: number; bias?: Float32Array; output: string }
  | { kind: 'layernorm'; node: ReadNode; scale: ReadTensor; bias?: ReadTensor; epsilon: number; output: string }
  /** A learned tensor used as it is: a transformer's class token (Expand), position embedding or folded relative position bias (Add). */
  | { kind: 'param'; node: ReadNode; tensor: ReadTensor; output: string };

export function describeOnnxLayer(l: OnnxLayer): string {
  const where = `ONNX node ${l.node.name || l.node.outputs[0]} (${l.node.opType})`;
  if (l.kind === 'conv') return `${where}, weight [${l.weight.dims.join(', ')}], stride ${l.strides.join('x')}, pads [${l.pads.join(', ')}]${l.group > 1 ? `, group ${l.group}` : ''}`;
  if (l.kind === 'batchnorm') return `${where}, ${l.scale.dims[0]} channels`;
  if (l.kind === 'layernorm') return `${where}, ${l.scale.dims[0]} channels, epsilon ${l.epsilon}`;
  if (l.kind === 'param') return `${where}, parameter [${l.tensor.dims.join(', ')}]`;
  return `${where}, ${l.inputs} -> ${l.outputs}`;
}

const COMMUTATIVE = new Set(['Add', 'Sum', 'Mul']);

export function onnxLayers(model: ReadModel): OnnxLayer[] {
  if (model.outputs.length !== 1) throw new Error(`the ONNX graph has ${model.outputs.length} outputs (one, the class scores, is expected)`);
  const producer = new Map<string, ReadNode>();
  for (const n of model.nodes) for (const o of n.outputs) producer.set(o, n);
  const consumers = new Map<string, ReadNode[]>();
  for (const n of model.nodes) for (const i of n.inputs) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n);
  const constant = (name: string | undefined) => (name ? model.constants.get(name) : undefined);
  const isMatMulByConstant = (n: ReadNode) => n.opType === 'MatMul' && constant(n.inputs[1]) !== undefined && constant(n.inputs[1])!.dims.length === 2;
  // a constant of rank 3 or 4 broadcast into the tokens or attention logits (linear biases are rank 1,
  // scalars rank 0, Swin's shifted-window masks rank 5 and carry no weights)
  const paramInput = (n: ReadNode) => (n.opType === 'Expand' ? [n.inputs[0]] : n.opType === 'Add' ? n.inputs : []).find((i) => [3, 4].includes(constant(i)?.dims.length ?? 0));
  const carries = (n: ReadNode) => ['Conv', 'BatchNormalization', 'Gemm', 'LayerNormalization'].includes(n.opType) || isMatMulByConstant(n) || paramInput(n) !== undefined;
  const last = producer.get(model.outputs[0].name);
  if (!last) throw new Error(`no node produces the ONNX graph's output ${model.outputs[0].name}`);
  const order = structuralOrder(last, {
    inputs: (n) => n.inputs.map((i) => (model.constants.has(i) ? undefined : producer.get(i))),
    carriesWeights: carries,
    commutative: (n) => COMMUTATIVE.has(n.opType),
  });
  const layers: OnnxLayer[] = [];
  for (const n of order.filter(carries)) {
    const attr = (name: string) => n.attributes.get(name);
    if (n.opType === 'Conv') {
      const weight = need(constant(n.inputs[1]), n, 'weight');
      const k = weight.dims.length - 2;
      layers.push({
        kind: 'conv',
        node: n,
        weight,
        bias: constant(n.inputs[2]),
        group: attr('group')?.int ?? 1,
        strides: attr('strides')?.ints ?? Array(k).fill(1),
        pads: addPadNode(attr('pads')?.ints ?? Array(2 * k).fill(0), producer.get(n.inputs[0]), model),
        dilations: attr('dilations')?.ints ?? Array(k).fill(1),
        output: n.outputs[0],
      });
      if (attr('auto_pad')?.string && attr('auto_pad')!.string !== 'NOTSET') throw new Error(`ONNX node ${n.name} (Conv): auto_pad ${attr('auto_pad')!.string} is not supported (explicit pads are)`);
    } else if (n.opType === 'BatchNormalization') {
      const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i, k) => need(constant(n.inputs[i]), n, ['scale', 'bias', 'mean', 'variance'][k]));
      layers.push({ kind: 'batchnorm', node: n, scale, bias, mean, variance, epsilon: attr('epsilon')?.float ?? 1e-5, input: n.inputs[0], output: n.outputs[0] });
    } else if (n.opType === 'LayerNormalization') {
      const axis = attr('axis')?.int ?? -1;
      if (axis !== -1) throw new Error(`ONNX node ${n.name} (LayerNormalization): axis ${axis} is not supported (the last axis is)`);
      layers.push({ kind: 'layernorm', node: n, scale: need(constant(n.inputs[1]), n, 'scale'), bias: constant(n.inputs[2]), epsilon: attr('epsilon')?.float ?? 1e-5, output: n.outputs[0] });
    } else if (paramInput(n) !== undefined) {
      layers.push({ kind: 'param', node: n, tensor: constant(paramInput(n))!, output: n.outputs[0] });
    } else if (n.opType === 'Gemm') {
      const w = need(constant(n.inputs[1]), n, 'weight (B)');
      if (attr('transA')?.int) throw new Error(`ONNX node ${n.name} (Gemm): transA is not supported`);
      const scale = attr('alpha')?.float ?? 1;
      const transB = attr('transB')?.int === 1;
      const [rows, cols] = w.dims;
      const weight = transB ? transpose2d(w.data as Float32Array, rows, cols) : Float32Array.from(w.data as Float32Array);
      if (scale !== 1) weight.forEach((v, i) => (weight[i] = v * scale));
      const c = constant(n.inputs[2]);
      const bias = c ? Float32Array.from(c.data as Float32Array, (v) => v * (attr('beta')?.float ?? 1)) : undefined;
      const [inputs, outputs] = transB ? [cols, rows] : [rows, cols];
      layers.push({ kind: 'linear', node: n, weight, inputs, outputs, bias, output: n.outputs[0] });
    } else {
      // MatMul by a constant [in, out], and the bias of a constant Add right after it (PyTorch's Linear on rank > 2)
      const w = constant(n.inputs[1])!;
      const next = consumers.get(n.outputs[0]) ?? [];
      const add = next.length === 1 && next[0].opType === 'Add' ? next[0] : undefined;
      const biasTensor = add ? constant(add.inputs.find((i) => i !== n.outputs[0])) : undefined;
      layers.push({ kind: 'linear', node: n, weight: Float32Array.from(w.data as Float32Array), inputs: w.dims[0], outputs: w.dims[1], bias: biasTensor ? Float32Array.from(biasTensor.data as Float32Array) : undefined, output: biasTensor ? add!.outputs[0] : n.outputs[0] });
    }
  }
  return layers;
}

/** A zero Pad node right before a conv (tf2onnx, our exporter, timm's 'same' convs) counts as the conv's padding. */
function addPadNode(pads: number[], before: ReadNode | undefined, model: ReadModel): number[] {
  if (!before || before.opType !== 'Pad' || (before.attributes.get('mode')?.string ?? 'constant') !== 'constant') return pads;
  const value = before.inputs[2] ? model.constants.get(before.inputs[2])?.data[0] : (before.attributes.get('value')?.float ?? 0);
  const padding = before.inputs[1] ? model.constants.get(before.inputs[1])?.data : before.attributes.get('pads')?.ints;
  if (value !== 0 || !padding || padding.length !== 8 || padding[0] || padding[1] || padding[4] || padding[5]) return pads;
  const [, , top, left, , , bottom, right] = Array.from(padding);
  return [pads[0] + top, pads[1] + left, pads[2] + bottom, pads[3] + right];
}

function need(t: ReadTensor | undefined, n: ReadNode, what: string): ReadTensor {
  if (!t) throw new Error(`ONNX node ${n.name || n.outputs[0]} (${n.opType}): its ${what} is computed, not a constant (export the model with do_constant_folding=True)`);
  return t;
}

export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** A linear map from a Gemm/MatMul, or a 1x1 convolution on a pooled vector (squeeze-excite). */
export function asLinear(t: OnnxLayer): { inputs: number; outputs: number; weight: Float32Array; bias?: Float32Array } | undefined {
  if (t.kind === 'linear') return t;
  if (t.kind === 'conv' && t.group === 1 && t.weight.dims[2] === 1 && t.weight.dims[3] === 1) {
    const [co, ci] = t.weight.dims;
    return { inputs: ci, outputs: co, weight: transpose2d(t.weight.data as Float32Array, co, ci), bias: t.bias ? f32(t.bias) : undefined };
  }
  return undefined;
}

export function f32(t: { data: Float32Array | number[] }): Float32Array {
  return Float32Array.from(t.data);
}
