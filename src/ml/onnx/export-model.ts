import * as tf from '../tf.ts';
import { OnnxExportError, UnsupportedLayerError } from './errors.ts';
import { OnnxGraphBuilder } from './graph-builder.ts';
import { converters, onnxAxis, type Value } from './layer-converters.ts';
import { shapeConverters } from './shape-converters.ts';
import { transformerConverters } from './transformer-converters.ts';
import { DataType, encodeModel } from './onnx-model.ts';

export { OnnxExportError, UnsupportedLayerError } from './errors.ts';

/** ORT 1.30 runs opsets up to 23; 17 has every operator used here in its current form (IR version 8 era). */
const OPSET = 17;
const IR_VERSION = 8;

export interface OnnxExport {
  /** Serialized ModelProto. */
  bytes: Uint8Array;
  inputName: string;
  outputName: string;
  /** tfjs shapes without the batch axis: input [H, W, C] (NHWC, as fed), output e.g. [classes]. */
  inputShape: number[];
  outputShape: number[];
}

type SymbolicTensor = tf.SymbolicTensor;
export interface GraphNode {
  outboundLayer: tf.layers.Layer;
  inputTensors: SymbolicTensor[];
  outputTensors: SymbolicTensor[];
}

const nodeOf = (t: SymbolicTensor) => t.sourceLayer.inboundNodes[t.nodeIndex] as unknown as GraphNode;

/** The model's layer calls feeding its output, inputs before consumers. */
export function topologicalNodes(output: SymbolicTensor | readonly SymbolicTensor[]): GraphNode[] {
  const order: GraphNode[] = [];
  const seen = new Set<GraphNode>();
  const visit = (t: SymbolicTensor) => {
    const node = nodeOf(t);
    if (seen.has(node)) return;
    seen.add(node);
    if (node.outboundLayer.getClassName() !== 'InputLayer') for (const input of node.inputTensors) visit(input); // an input layer lists its own output as input
    order.push(node);
  };
  for (const o of Array.isArray(output) ? output : [output]) visit(o as SymbolicTensor);
  return order;
}

/**
 * Exports a single-input, single-output tfjs LayersModel on NHWC images to ONNX (in memory): a
 * Transpose to NCHW, then the layers computed in NCHW (ORT's fast layout), each batch norm that is the
 * only consumer of a linear conv folded into the conv's weights. Throws UnsupportedLayerError for a
 * layer class the converters do not know.
 */
export async function exportToOnnx(model: tf.LayersModel): Promise<OnnxExport> {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new OnnxExportError(`model ${model.name}: ${model.inputs.length} inputs and ${model.outputs.length} outputs (the exporter takes one of each)`);
  const [input] = model.inputs;
  const [output] = model.outputs;
  const nodes = topologicalNodes(output);
  const consumers = new Map<SymbolicTensor, GraphNode[]>();
  for (const node of nodes.filter((n) => n.outboundLayer.getClassName() !== 'InputLayer')) for (const t of node.inputTensors) (consumers.get(t) ?? consumers.set(t, []).get(t)!).push(node);

  const g = new OnnxGraphBuilder();
  const values = new Map<SymbolicTensor, Value>();
  const inputName = g.reserve('input');
  const inputShape = staticShape(input, 'input');
  if (input.rank !== 4 && input.rank !== 2) throw new OnnxExportError(`model input of rank ${input.rank} (the exporter takes images [N,H,W,C] or vectors [N,D])`);
  values.set(input, { name: input.rank === 4 ? g.node('Transpose', [inputName], 'input_nchw', [{ name: 'perm', ints: [0, 3, 1, 2] }]) : inputName, shape: input.shape });

  const folded = new Set<GraphNode>();
  for (const node of nodes) {
    const layer = node.outboundLayer;
    if (layer.getClassName() === 'InputLayer') {
      if (!values.has(node.outputTensors[0])) throw new UnsupportedLayerError(layer.name, layer.getClassName(), 'a second model input');
      continue;
    }
    if (node.outputTensors.length !== 1) throw new UnsupportedLayerError(layer.name, layer.getClassName(), `${node.outputTensors.length} outputs`);
    const [out] = node.outputTensors;
    if (out.rank < 2 || out.rank > 4) throw new UnsupportedLayerError(layer.name, layer.getClassName(), `output of rank ${out.rank}`);
    const inputs = node.inputTensors.map((t) => values.get(t)!);
    if (folded.has(node)) {
      values.set(out, { name: inputs[0].name, shape: out.shape }); // computed by the conv before it
      continue;
    }
    const convert = converters[layer.getClassName()] ?? shapeConverters[layer.getClassName()] ?? transformerConverters[layer.getClassName()];
    if (!convert) throw new UnsupportedLayerError(layer.name, layer.getClassName());
    const bn = foldableBatchNorm(node, consumers, output);
    if (bn) folded.add(bn);
    const name = await convert({ g, layer, inputs, foldedBatchNorm: bn?.outboundLayer });
    values.set(out, { name, shape: out.shape });
  }

  const result = values.get(output)!;
  let outputName = result.name;
  if (output.rank === 4) outputName = g.node('Transpose', [outputName], 'output_nhwc', [{ name: 'perm', ints: [0, 2, 3, 1] }]);
  if (outputName === inputName) outputName = g.node('Identity', [outputName], 'output');
  const outputShape = staticShape(output, 'output');
  const bytes = encodeModel({
    irVersion: IR_VERSION,
    opsetVersion: OPSET,
    producerName: 'pipeline',
    producerVersion: `tfjs ${tf.version.tfjs}`,
    graph: {
      name: model.name,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: inputName, elemType: DataType.FLOAT, shape: ['N', ...inputShape] }],
      outputs: [{ name: outputName, elemType: DataType.FLOAT, shape: ['N', ...outputShape] }],
    },
  });
  return { bytes, inputName, outputName, inputShape, outputShape };
}

/**
 * The batch norm to fold into this conv: its only consumer, not a model output, the conv linear and
 * the normalisation over channels.
 */
function foldableBatchNorm(node: GraphNode, consumers: Map<SymbolicTensor, GraphNode[]>, modelOutput: SymbolicTensor): GraphNode | undefined {
  const cls = node.outboundLayer.getClassName();
  if (cls !== 'Conv2D' && cls !== 'DepthwiseConv2D') return undefined;
  const [out] = node.outputTensors;
  const next = consumers.get(out) ?? [];
  if (out === modelOutput || next.length !== 1 || next[0].outboundLayer.getClassName() !== 'BatchNormalization') return undefined;
  if ((node.outboundLayer.getConfig() as { activation: string }).activation !== 'linear') return undefined;
  const axis = (next[0].outboundLayer.getConfig() as { axis: number }).axis;
  return onnxAxis(axis, 4) === 1 ? next[0] : undefined;
}

function staticShape(t: SymbolicTensor, what: string): number[] {
  const rest = t.shape.slice(1);
  if (rest.some((d) => d === null)) throw new OnnxExportError(`model ${what} shape [${t.shape.join(', ')}] has unknown dimensions besides the batch`);
  return rest as number[];
}
