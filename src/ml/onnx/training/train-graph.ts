import * as tf from '../../tf.ts';
import { OnnxExportError, UnsupportedLayerError } from '../errors.ts';
import { topologicalNodes } from '../export-model.ts';
import { OnnxGraphBuilder } from '../graph-builder.ts';
import { DataType, encodeModel, type OnnxValueInfo } from '../onnx-model.ts';
import { AdamEmitter, type AdamConfig } from './adam-graph.ts';
import { sumGrads } from './graph-ops.ts';
import { layerEmitters, type Emitted, type LayerVariable, type Value, type WeightLayout } from './layer-emitters.ts';
import { emitLoss, type TrainLoss } from './loss-graph.ts';
import { shapeEmitters } from './shape-emitters.ts';

/** ScatterElements with reduction 'add' (MaxPool's gradient) needs opset 16; 17 as the inference exporter. */
const OPSET = 17;
const IR_VERSION = 8;

/** A trainable weight in the graph: its value, Adam moments and their next values (and gradient, if exposed). */
export interface WeightSlot {
  variable: LayerVariable;
  layout: WeightLayout;
  /** Shape in the graph (the layout's). */
  dims: number[];
  value: string;
  m: string;
  v: string;
  next: { value: string; m: string; v: string };
  grad?: string;
}

/** A non-trainable state tensor (a BN moving statistic) and its next value. */
export interface StateSlot {
  variable: LayerVariable;
  dims: number[];
  value: string;
  next: string;
}

export interface TrainGraph {
  bytes: Uint8Array;
  /** Input images NHWC [N, ...inputShape], targets [N, ...targetShape] ([N, classes] for the classification losses), learning rate []. */
  input: string;
  target: string;
  lr: string;
  inputShape: number[];
  classes: number;
  targetShape: number[];
  loss: string;
  /** In model.trainableWeights order (the order of tfjs's Adam moments). */
  weights: WeightSlot[];
  states: StateSlot[];
  accBeta1: { value: string; next: string };
  accBeta2: { value: string; next: string };
}

/** A loss written by its caller (the detector's): targets of `targetShape` per example, the loss value and the gradient of the model output. */
export interface CustomTrainLoss {
  targetShape: number[];
  emit(g: OnnxGraphBuilder, output: string, target: string): { loss: string; dp: string };
}

export interface TrainGraphOptions {
  loss: TrainLoss | CustomTrainLoss;
  adam: AdamConfig;
  /** Also output every weight's gradient (tests compare them with tfjs's). */
  exposeGradients?: boolean;
}

/** The ONNX layout of a weight and back: conv kernels HWIO <-> OIHW, anything else as is. */
export function layoutDims(shape: readonly number[], layout: WeightLayout): number[] {
  if (layout === 'same') return [...shape];
  const [h, w, i, o] = shape;
  return [o, i, h, w];
}

export function toLayout(data: Float32Array, shape: readonly number[], layout: WeightLayout): Float32Array {
  return layout === 'same' ? data : permuteKernel(data, shape, true);
}

export function fromLayout(data: Float32Array, shape: readonly number[], layout: WeightLayout): Float32Array {
  return layout === 'same' ? data : permuteKernel(data, shape, false);
}

/** HWIO (tfjs) -> OIHW (ONNX) when `toOnnx`, else back; `shape` is the HWIO shape either way. */
function permuteKernel(data: Float32Array, shape: readonly number[], toOnnx: boolean): Float32Array {
  const [h, w, i, o] = shape;
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < i; c++) {
        for (let k = 0; k < o; k++) {
          const hwio = ((y * w + x) * i + c) * o + k;
          const oihw = ((k * i + c) * h + y) * w + x;
          if (toOnnx) out[oihw] = data[hwio];
          else out[hwio] = data[oihw];
        }
      }
    }
  }
  return out;
}

/**
 * One training step of a tfjs LayersModel (single NHWC image input, [N, K] probabilities out) as an ONNX
 * graph: the forward pass in training mode (NCHW inside), the loss, the backward pass written as forward
 * ops, the BN moving-stat updates and the Adam update. Weights, moments, moving stats, Adam's beta powers
 * and the learning rate are inputs; their next values and the loss are outputs. Throws
 * UnsupportedLayerError for a layer it cannot differentiate.
 */
export function buildTrainGraph(model: tf.LayersModel, options: TrainGraphOptions): TrainGraph {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new OnnxExportError(`model ${model.name}: ${model.inputs.length} inputs and ${model.outputs.length} outputs (training graphs take one of each)`);
  const [input] = model.inputs;
  const [output] = model.outputs;
  const custom = 'emit' in options.loss ? options.loss : undefined;
  if (input.rank !== 4 || (output.rank !== 2 && !custom)) throw new OnnxExportError(`model ${model.name}: input rank ${input.rank}, output rank ${output.rank} (training graphs take images to [N, K])`);
  const inputShape = input.shape.slice(1) as number[];
  const classes = output.shape[output.rank - 1] as number;
  const targetShape = custom ? custom.targetShape : [classes];
  if (inputShape.some((d) => d === null) || classes === null) throw new OnnxExportError(`model ${model.name}: unknown input or output dimensions`);

  const g = new OnnxGraphBuilder();
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  const graphInput = (name: string, shape: ReadonlyArray<number | string>) => {
    inputs.push({ name: g.reserve(name), elemType: DataType.FLOAT, shape });
    return name;
  };
  const x = graphInput('x', ['N', ...inputShape]);
  const y = graphInput('y', ['N', ...targetShape]);
  const lr = graphInput('lr', []);
  const accBeta1 = graphInput('adam_acc_beta1', []);
  const accBeta2 = graphInput('adam_acc_beta2', []);

  const weights = new Map<LayerVariable, WeightSlot>();
  model.trainableWeights.forEach((variable, i) => {
    const dims = [...variable.shape] as number[];
    weights.set(variable, { variable, layout: 'same', dims, value: g.reserve(`w${i}`), m: g.reserve(`m${i}`), v: g.reserve(`v${i}`), next: { value: '', m: '', v: '' } });
  });
  const used = new Set<LayerVariable>();
  const states = new Map<LayerVariable, StateSlot>();

  const values = new Map<tf.SymbolicTensor, Value>();
  values.set(input, { name: g.node('Transpose', [x], 'x_nchw', [{ name: 'perm', ints: [0, 3, 1, 2] }]), shape: input.shape });
  const nodes = topologicalNodes(output).filter((n) => n.outboundLayer.getClassName() !== 'InputLayer');
  const emitted: Emitted[] = [];
  const requiresGrad = new Set<tf.SymbolicTensor>();
  for (const node of nodes) {
    const layer = node.outboundLayer;
    const emit = layerEmitters[layer.getClassName()] ?? shapeEmitters[layer.getClassName()];
    if (!emit) throw new UnsupportedLayerError(layer.name, layer.getClassName());
    if (node.outputTensors.length !== 1) throw new UnsupportedLayerError(layer.name, layer.getClassName(), `${node.outputTensors.length} outputs`);
    const [out] = node.outputTensors;
    const result = emit({
      g,
      layer,
      inputs: node.inputTensors.map((t) => values.get(t)!),
      outputShape: out.shape,
      weight(variable, layout = 'same') {
        const slot = weights.get(variable);
        if (!slot) throw new UnsupportedLayerError(layer.name, layer.getClassName(), `weight ${variable.name} is not trainable`);
        slot.layout = layout;
        slot.dims = layoutDims(variable.shape as number[], layout);
        used.add(variable);
        return slot.value;
      },
      state(variable) {
        const slot = { variable, dims: [...variable.shape] as number[], value: `state${states.size}`, next: '' };
        states.set(variable, slot);
        return graphInput(slot.value, slot.dims);
      },
      setNextState(variable, next) {
        states.get(variable)!.next = next;
      },
    });
    emitted.push(result);
    values.set(out, { name: result.output, shape: out.shape });
    if (layer.trainableWeights.length > 0 || node.inputTensors.some((t) => requiresGrad.has(t))) requiresGrad.add(out);
  }
  for (const slot of weights.values()) {
    if (!used.has(slot.variable)) throw new OnnxExportError(`trainable weight ${slot.variable.name} is not used by a supported layer`);
    for (const name of [slot.value, slot.m, slot.v]) inputs.push({ name, elemType: DataType.FLOAT, shape: slot.dims });
  }

  const { loss, dp } = custom ? custom.emit(g, values.get(output)!.name, y) : emitLoss(g, options.loss as TrainLoss, values.get(output)!.name, y);
  const grads = new Map<tf.SymbolicTensor, string[]>([[output, [dp]]]);
  const weightGrads = new Map<LayerVariable, string>();
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    const [out] = node.outputTensors;
    const dys = grads.get(out);
    if (!dys) continue;
    const back = emitted[i].backward(sumGrads(g, dys, `${node.outboundLayer.name}/dy`), node.inputTensors.map((t) => requiresGrad.has(t)));
    node.inputTensors.forEach((t, k) => {
      const d = back.inputs[k];
      if (d) (grads.get(t) ?? grads.set(t, []).get(t)!).push(d);
    });
    for (const [variable, grad] of back.weights) weightGrads.set(variable, grad);
  }

  outputs.push({ name: loss, elemType: DataType.FLOAT, shape: [] });
  const adam = new AdamEmitter(g, options.adam, { lr, accBeta1, accBeta2 });
  for (const slot of weights.values()) {
    const grad = weightGrads.get(slot.variable);
    if (!grad) throw new OnnxExportError(`no gradient reaches trainable weight ${slot.variable.name}`);
    slot.next = adam.update(slot.value, slot.m, slot.v, grad, slot.value);
    for (const name of [slot.next.value, slot.next.m, slot.next.v]) outputs.push({ name, elemType: DataType.FLOAT, shape: slot.dims });
    if (options.exposeGradients) {
      slot.grad = grad;
      outputs.push({ name: grad, elemType: DataType.FLOAT, shape: slot.dims });
    }
  }
  for (const slot of states.values()) outputs.push({ name: slot.next, elemType: DataType.FLOAT, shape: slot.dims });
  const nextAcc = adam.nextAccumulators();
  outputs.push({ name: nextAcc.accBeta1, elemType: DataType.FLOAT, shape: [] }, { name: nextAcc.accBeta2, elemType: DataType.FLOAT, shape: [] });

  const bytes = encodeModel({
    irVersion: IR_VERSION,
    opsetVersion: OPSET,
    producerName: 'pipeline',
    producerVersion: `tfjs ${tf.version.tfjs}`,
    graph: { name: `${model.name}_train_step`, nodes: g.nodes, initializers: g.initializers, inputs, outputs },
  });
  return {
    bytes,
    input: x,
    target: y,
    lr,
    inputShape,
    classes,
    targetShape,
    loss,
    weights: [...weights.values()],
    states: [...states.values()],
    accBeta1: { value: accBeta1, next: nextAcc.accBeta1 },
    accBeta2: { value: accBeta2, next: nextAcc.accBeta2 },
  };
}
