import * as tf from '../../tf.ts';
import { OnnxExportError, UnsupportedLayerError } from '../errors.ts';
import { topologicalNodes } from '../export-model.ts';
import { OnnxGraphBuilder } from '../graph-builder.ts';
import { DataType, encodeModel, type OnnxModel, type OnnxValueInfo } from '../onnx-model.ts';
import { NCHWC_DOMAIN, reshape, sumGrads } from './graph-ops.ts';
import { layerEmitterFor, type Emitted, type LayerVariable, type Value, type WeightLayout } from './layers/index.ts';
import { lossEmitterFor, logitsLossEmitterFor, type TrainLoss } from './losses/index.ts';
import { logitsHead } from '../../models/logits-head.ts';
import type { OptimizerGraph } from './optimizers/index.ts';
import { UnsupportedTrainingError } from './unsupported.ts';
import { layoutDims, toLayout } from './weight-layout.ts';

export { fromLayout, layoutDims, toLayout } from './weight-layout.ts';

/**
 * Parameters and optimizer slots travel in chunks of consecutive weights of up to this many elements (a
 * larger weight is a chunk of its own), and the optimizer updates each chunk apart. ResNet-18's
 * 11.2M parameters as one buffer: each of Adam's 14 elementwise passes streamed 45 MB through memory
 * and scaled 1.0-1.3x from 1 to 2 threads, and every 45 MB output of the step cost the Node binding
 * ~12K page faults (a fresh mmap per output); in chunks of <= 4 MB the update of a chunk stays in cache
 * and the outputs reuse freed memory (Adam alone, bench/results/train.md round 4: 126 -> 56-65 ms).
 */
const PARAM_CHUNK_ELEMENTS = 1 << 20;

/** ScatterElements with reduction 'add' (MaxPool's gradient) needs opset 16; 17 as the inference exporter. */
const OPSET = 17;
const IR_VERSION = 8;

/** A trainable weight: a view of the parameter buffer (and of each optimizer slot buffer) at `offset`. */
export interface WeightSlot {
  variable: LayerVariable;
  layout: WeightLayout;
  /** Shape in the graph (the layout's). */
  dims: number[];
  /** In the whole buffer (the chunks laid end to end). */
  offset: number;
  size: number;
  /** The chunk holding it (`ChunkedBuffer.chunks` index). */
  chunk: number;
}

/** A non-trainable state tensor (a BN moving statistic): a view of the flat statistics buffer. */
export interface StateSlot {
  variable: LayerVariable;
  dims: number[];
  offset: number;
  size: number;
}

/** A flat buffer the step reads (`value`) and writes anew (`next`). */
export interface FlatBuffer {
  value: string;
  next: string;
  size: number;
}

/** A buffer of `size` elements exchanged with the step as consecutive chunks (elements `offset` .. `offset + size` each). */
export interface ChunkedBuffer {
  size: number;
  chunks: (FlatBuffer & { offset: number })[];
}

/** Weights a graph reads without training them, chunked as `params` would chunk the same list (so another graph's parameter chunks feed them as they are). */
export interface FrozenBuffer {
  name: string;
  size: number;
  chunks: { value: string; offset: number; size: number }[];
  /** In the group's order; `used`: read by this graph (its layout is then the graph's). */
  weights: (WeightSlot & { used: boolean })[];
}

export interface TrainGraph {
  bytes: Uint8Array;
  /** Input images NHWC [N, ...inputShape] (the model's first input), targets [N, ...targetShape] ([N, classes] for the registered losses; none for an OutputsTrainLoss), learning rate []. */
  input: string;
  /** Every model input (the first is `input`), NHWC [N, ...shape]. */
  inputs: { name: string; shape: number[] }[];
  target?: string;
  lr: string;
  inputShape: number[];
  classes: number;
  targetShape: number[];
  loss: string;
  /** Every trainable weight, concatenated in model.trainableWeights order (graph layouts). */
  params: ChunkedBuffer;
  /** The optimizer's per-weight state, one buffer per slot (`optimizer.slots` order), laid out and chunked as `params`. */
  slots: ChunkedBuffer[];
  /** Every batch-norm moving statistic, concatenated (absent without batch norms). */
  stats?: FlatBuffer;
  /** The frozen groups' inputs (`TrainGraphOptions.frozen` order). */
  frozen: FrozenBuffer[];
  /** In model.trainableWeights order (the order of tfjs's optimizer state). */
  weights: WeightSlot[];
  states: StateSlot[];
  /** The optimizer's scalar state (Adam's beta powers), in its `scalars` order. */
  optimizerScalars: { value: string; next: string }[];
  /** The flat gradient, laid out as `params` (with `exposeGradients`). */
  gradients?: string;
  /** Nodes in the graph (load time grows with it). */
  nodeCount: number;
  /** The model `bytes` encodes (multi-step-graph.ts chains copies of it). */
  onnx: OnnxModel;
}

/** A loss written by its caller (the detector's): targets of `targetShape` per example, the loss value and the gradient of the model output. */
export interface CustomTrainLoss {
  targetShape: number[];
  emit(g: OnnxGraphBuilder, output: string, target: string): { loss: string; dp: string };
}

/** A loss of every output of the model without targets (the WGAN's): the loss value and the gradient of each output. */
export interface OutputsTrainLoss {
  outputs: 'all';
  emit(g: OnnxGraphBuilder, outputs: readonly string[]): { loss: string; dps: string[] };
}

/** Variables the step reads as a chunked input without training them (another network's parameters). */
export interface FrozenGroup {
  name: string;
  variables: readonly LayerVariable[];
}

export interface TrainGraphOptions {
  loss: TrainLoss | CustomTrainLoss | OutputsTrainLoss;
  /** The weights trained, in this order (default: the model's trainable weights). Any other weight is frozen: a group's input, else a constant of its current value. */
  trainable?: readonly LayerVariable[];
  frozen?: readonly FrozenGroup[];
  /** false: every layer in inference mode (batch norms on their moving statistics, which the step then leaves alone). Default true. */
  training?: boolean;
  optimizer: OptimizerGraph;
  /** Also output the gradients (tests compare them with tfjs's). */
  exposeGradients?: boolean;
  /** Elements per parameter chunk (default PARAM_CHUNK_ELEMENTS; Infinity: one buffer, for benchmarks). */
  paramChunkElements?: number;
  /** ONNX Runtime's NCHWc block on the CPU that will run the graph (`nchwcBlockSize`); without it no NCHWc ops. */
  nchwcBlock?: number;
}

/**
 * One training step of a tfjs LayersModel (single NHWC image input, [N, K] probabilities out) as an ONNX
 * graph: the forward pass in training mode (NCHW inside), the loss, the backward pass written as forward
 * ops, the BN moving-stat updates and the optimizer update. Weights, optimizer state, moving stats and the
 * learning rate are inputs; their next values and the loss are outputs. BCE, focal and ASL under a final sigmoid
 * layer, CE and softmax focal under a softmax layer, are computed from the logits (their gradient at the logits; no clipping). Layers, losses and optimizers come
 * from their registries (layers/, losses/, optimizers/); anything unregistered throws
 * UnsupportedLayerError / UnsupportedTrainingError.
 */
export function buildTrainGraph(model: tf.LayersModel, options: TrainGraphOptions): TrainGraph {
  const outputsLoss = 'outputs' in options.loss ? options.loss : undefined;
  if ((model.inputs.length !== 1 || model.outputs.length !== 1) && !outputsLoss) throw new OnnxExportError(`model ${model.name}: ${model.inputs.length} inputs and ${model.outputs.length} outputs (training graphs take one of each, unless the loss takes every output)`);
  const [input] = model.inputs;
  const [output] = model.outputs;
  const custom = 'emit' in options.loss ? options.loss : undefined;
  const badInput = model.inputs.find((t) => t.rank !== 4);
  if (badInput || (output.rank !== 2 && !custom)) throw new OnnxExportError(`model ${model.name}: input rank ${(badInput ?? input).rank}, output rank ${output.rank} (training graphs take images to [N, K])`);
  const inputShape = input.shape.slice(1) as number[];
  const classes = output.shape[output.rank - 1] as number;
  const targetShape = outputsLoss ? [] : custom ? (custom as CustomTrainLoss).targetShape : [classes];
  if (model.inputs.some((t) => t.shape.slice(1).some((d) => d === null)) || classes === null) throw new OnnxExportError(`model ${model.name}: unknown input or output dimensions`);
  const registered = custom ? undefined : (options.loss as TrainLoss);
  const emitLoss = registered ? lossEmitterFor(registered.kind) : undefined;
  if (registered && !emitLoss) throw new UnsupportedTrainingError(`loss ${registered.kind} has no training-graph emitter`);
  // BCE, focal, ASL under a final sigmoid, CE and softmax focal under a softmax: the loss reads the logits, as the tfjs loop (training/objective.ts)
  const head = registered ? logitsHead(model) : undefined;
  const emitLogitsLoss = head ? logitsLossEmitterFor(registered!, head.activation) : undefined;

  const g = new OnnxGraphBuilder({ shareConstants: true });
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  const graphInput = (name: string, shape: ReadonlyArray<number | string>) => {
    inputs.push({ name: g.reserve(name), elemType: DataType.FLOAT, shape });
    return name;
  };
  const graphOutput = (name: string, shape: ReadonlyArray<number | string>) => outputs.push({ name, elemType: DataType.FLOAT, shape });
  const modelInputs = model.inputs.map((t, i) => ({ tensor: t, name: graphInput(i === 0 ? 'x' : `x_${i}`, ['N', ...(t.shape.slice(1) as number[])]), shape: t.shape.slice(1) as number[] }));
  const x = modelInputs[0].name;
  const y = outputsLoss ? undefined : graphInput('y', ['N', ...targetShape]);
  const lr = graphInput('lr', []);
  const scalarInputs = options.optimizer.scalars.map((s) => graphInput(`opt_${s.key}`, []));

  // The parameters (and each optimizer slot) in a few chunks of consecutive weights: the optimizer update
  // is a few ops per chunk instead of a dozen per weight (DenseNet-121: 5,100 of its 15,300 nodes), and
  // the step exchanges 3 tensors per chunk with the caller instead of 3 per weight (see PARAM_CHUNK_ELEMENTS).
  const chunkElements = options.paramChunkElements ?? PARAM_CHUNK_ELEMENTS;
  const { slots: trainableSlots, bounds: chunkBounds, size: paramCount } = chunkLayout(options.trainable ?? model.trainableWeights, chunkElements);
  const weights = new Map(trainableSlots.map((slot) => [slot.variable, slot]));
  const paramChunks = chunkBounds.map((c, k) => graphInput(`params_${k}`, [c.size]));
  const frozenSlots = new Map<LayerVariable, { slot: FrozenBuffer['weights'][number]; group: FrozenBuffer }>();
  const frozen = (options.frozen ?? []).map((group): FrozenBuffer => {
    const layout = chunkLayout(group.variables, chunkElements);
    const buffer: FrozenBuffer = { name: group.name, size: layout.size, chunks: layout.bounds.map((c, k) => ({ ...c, value: graphInput(`${group.name}_${k}`, [c.size]) })), weights: layout.slots.map((slot) => ({ ...slot, used: false })) };
    for (const slot of buffer.weights) {
      if (weights.has(slot.variable) || frozenSlots.has(slot.variable)) throw new OnnxExportError(`weight ${slot.variable.name} is in two of the step's groups (trainable, ${group.name})`);
      frozenSlots.set(slot.variable, { slot, group: buffer });
    }
    return buffer;
  });
  const slotChunks = options.optimizer.slots.map((suffix) => chunkBounds.map((c, k) => graphInput(`opt_${suffix}_${k}`, [c.size])));
  const stats = g.reserve('stats');
  const states = new Map<LayerVariable, StateSlot & { next: string }>();
  let statCount = 0;
  /** Elements offset .. offset + size of a flat buffer of `bufferSize` as `dims` (no copy when that is all of it). */
  const view = (buffer: string, bufferSize: number, offset: number, size: number, dims: number[], base: string) =>
    reshape(g, offset === 0 && size === bufferSize ? buffer : g.node('Slice', [buffer, g.int64s(`${base}/start`, [offset]), g.int64s(`${base}/end`, [offset + size]), g.int64s('axis0', [0])], `${base}/flat`), dims, base);
  const used = new Map<LayerVariable, { value: string; layout: WeightLayout }>();
  /** A weight that is neither trained nor in a frozen group: a constant of its current value. */
  const constant = (variable: LayerVariable, layout: WeightLayout) =>
    g.floats(`c/${variable.name}`, layoutDims(variable.shape as number[], layout), toLayout(Float32Array.from(variable.read().dataSync()), variable.shape as number[], layout));

  const values = new Map<tf.SymbolicTensor, Value>();
  for (const m of modelInputs) values.set(m.tensor, { name: g.node('Transpose', [m.name], `${m.name}_nchw`, [{ name: 'perm', ints: [0, 3, 1, 2] }]), shape: m.tensor.shape });
  const nodes = topologicalNodes(model.outputs).filter((n) => n.outboundLayer.getClassName() !== 'InputLayer');
  const emitted: Emitted[] = [];
  const requiresGrad = new Set<tf.SymbolicTensor>();
  for (const node of nodes) {
    const layer = node.outboundLayer;
    const emit = layerEmitterFor(layer.getClassName());
    if (!emit) throw new UnsupportedLayerError(layer.name, layer.getClassName());
    if (node.outputTensors.length !== 1) throw new UnsupportedLayerError(layer.name, layer.getClassName(), `${node.outputTensors.length} outputs`);
    const [out] = node.outputTensors;
    const result = emit({
      g,
      layer,
      inputs: node.inputTensors.map((t) => values.get(t)!),
      outputShape: out.shape,
      weight(variable, layout = 'same') {
        const seen = used.get(variable);
        if (seen) {
          if (seen.layout !== layout) throw new UnsupportedLayerError(layer.name, layer.getClassName(), `weight ${variable.name} used in two layouts`);
          return seen.value;
        }
        const frozenSlot = frozenSlots.get(variable);
        const slot = weights.get(variable) ?? frozenSlot?.slot;
        let value: string;
        if (slot) {
          slot.layout = layout;
          slot.dims = layoutDims(variable.shape as number[], layout);
          const chunks = frozenSlot ? frozenSlot.group.chunks : chunkBounds.map((c, k) => ({ ...c, value: paramChunks[k] }));
          const chunk = chunks[slot.chunk];
          value = view(chunk.value, chunk.size, slot.offset - chunk.offset, slot.size, slot.dims, `w/${variable.name}`);
          if (frozenSlot) frozenSlot.slot.used = true;
        } else value = constant(variable, layout);
        used.set(variable, { value, layout });
        return value;
      },
      state(variable) {
        const dims = [...variable.shape] as number[];
        const size = dims.reduce((a, b) => a * b, 1);
        const slot = { variable, dims, offset: statCount, size, next: '' };
        statCount += size;
        states.set(variable, slot);
        return view(stats, -1, slot.offset, size, dims, `s/${variable.name}`);
      },
      setNextState(variable, next) {
        states.get(variable)!.next = next;
      },
      nchwcBlock: options.nchwcBlock,
      training: options.training ?? true,
    });
    emitted.push(result);
    values.set(out, { name: result.output, shape: out.shape });
    if (layer.trainableWeights.some((v) => weights.has(v)) || node.inputTensors.some((t) => requiresGrad.has(t))) requiresGrad.add(out);
  }
  for (const slot of weights.values()) if (!used.has(slot.variable)) throw new OnnxExportError(`trainable weight ${slot.variable.name} is not used by a supported layer`);

  const grads = new Map<tf.SymbolicTensor, string[]>();
  let loss: string;
  if (outputsLoss) {
    const emittedLoss = outputsLoss.emit(g, model.outputs.map((o) => values.get(o)!.name));
    loss = emittedLoss.loss;
    model.outputs.forEach((o, i) => grads.set(o, [emittedLoss.dps[i]]));
  } else {
    const prediction = values.get(output)!.name;
    if (emitLogitsLoss) {
      // the final activation's node gets no gradient, so the backward pass below skips it
      const emittedLoss = emitLogitsLoss({ g, z: values.get(head!.logits)!.name, y: y!, classes, loss: registered! });
      loss = emittedLoss.loss;
      grads.set(head!.logits, [emittedLoss.dz]);
    } else {
      const emittedLoss = custom ? (custom as CustomTrainLoss).emit(g, prediction, y!) : emitLoss!({ g, p: prediction, y: y!, classes, loss: registered! });
      loss = emittedLoss.loss;
      grads.set(output, [emittedLoss.dp]);
    }
  }
  // a weight the model uses more than once (a layer applied twice) gets the sum of its gradients
  const weightGrads = new Map<LayerVariable, string[]>();
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
    for (const [variable, grad] of back.weights) if (weights.has(variable)) (weightGrads.get(variable) ?? weightGrads.set(variable, []).get(variable)!).push(grad);
  }
  const flatGrads = [...weights.values()].map((slot) => {
    const grad = weightGrads.get(slot.variable);
    if (!grad) throw new OnnxExportError(`no gradient reaches trainable weight ${slot.variable.name}`);
    return { chunk: slot.chunk, grad: reshape(g, sumGrads(g, grad, `g/${slot.variable.name}/sum`), [-1], `g/${slot.variable.name}`) };
  });
  const concat = (parts: string[], base: string) => (parts.length === 1 ? parts[0] : g.node('Concat', parts, base, [{ name: 'axis', int: 0 }]));
  const chunkGrads = chunkBounds.map((_, k) => concat(flatGrads.filter((f) => f.chunk === k).map((f) => f.grad), `gradient_${k}`));

  graphOutput(loss, []);
  const step = options.optimizer.emit(g, lr, scalarInputs);
  const updates = chunkBounds.map((c, k) => {
    const update = step.update(paramChunks[k], slotChunks.map((slot) => slot[k]), chunkGrads[k], `params_${k}`);
    for (const name of [update.value, ...update.slots]) graphOutput(name, [c.size]);
    return update;
  });
  const gradient = options.exposeGradients ? concat(chunkGrads, 'gradient') : undefined;
  if (gradient) graphOutput(gradient, [paramCount]);
  let nextStats: string | undefined;
  if (states.size > 0) {
    inputs.push({ name: stats, elemType: DataType.FLOAT, shape: [statCount] });
    nextStats = g.node('Concat', [...states.values()].map((s) => reshape(g, s.next, [-1], `${s.variable.name}/next_flat`)), 'stats_next', [{ name: 'axis', int: 0 }]);
    graphOutput(nextStats, [statCount]);
  }
  const nextScalars = step.nextScalars();
  for (const name of nextScalars) graphOutput(name, []);
  const { nodes: liveNodes, initializers: liveInitializers } = pruneDead(g, outputs.map((o) => o.name));

  const onnx: OnnxModel = {
    irVersion: IR_VERSION,
    opsetVersion: OPSET,
    extraOpsets: options.nchwcBlock ? [{ domain: NCHWC_DOMAIN, version: 1 }] : [],
    producerName: 'pipeline',
    producerVersion: `tfjs ${tf.version.tfjs}`,
    graph: { name: `${model.name}_train_step`, nodes: liveNodes, initializers: liveInitializers, inputs, outputs },
  };
  return {
    bytes: encodeModel(onnx),
    onnx,
    input: x,
    inputs: modelInputs.map((m) => ({ name: m.name, shape: m.shape })),
    target: y,
    lr,
    inputShape,
    classes,
    targetShape,
    loss,
    params: { size: paramCount, chunks: chunkBounds.map((c, k) => ({ ...c, value: paramChunks[k], next: updates[k].value })) },
    slots: slotChunks.map((chunks, j) => ({ size: paramCount, chunks: chunkBounds.map((c, k) => ({ ...c, value: chunks[k], next: updates[k].slots[j] })) })),
    stats: nextStats ? { value: stats, next: nextStats, size: statCount } : undefined,
    frozen,
    weights: [...weights.values()],
    states: [...states.values()].map(({ next: _next, ...slot }) => slot),
    optimizerScalars: scalarInputs.map((value, i) => ({ value, next: nextScalars[i] })),
    gradients: gradient,
    nodeCount: liveNodes.length,
  };
}

/** Consecutive weights in chunks of up to `chunkElements` elements (a larger weight is a chunk of its own). */
function chunkLayout(variables: readonly LayerVariable[], chunkElements: number): { slots: WeightSlot[]; bounds: { offset: number; size: number }[]; size: number } {
  let size = 0;
  const slots: WeightSlot[] = [];
  const bounds: { offset: number; size: number }[] = [];
  for (const variable of variables) {
    const n = (variable.shape as number[]).reduce((a, b) => a * b, 1);
    const last = bounds.at(-1);
    if (!last || (last.size > 0 && last.size + n > chunkElements)) bounds.push({ offset: size, size: 0 });
    bounds.at(-1)!.size += n;
    slots.push({ variable, layout: 'same', dims: [...variable.shape] as number[], offset: size, size: n, chunk: bounds.length - 1 });
    size += n;
  }
  return { slots, bounds, size };
}

/**
 * The nodes and initializers some graph output depends on: the backward pass of a frozen network still
 * writes its weights' gradients (each emitter writes them all), which nothing then reads.
 */
function pruneDead(g: OnnxGraphBuilder, outputs: readonly string[]): { nodes: OnnxGraphBuilder['nodes']; initializers: OnnxGraphBuilder['initializers'] } {
  const needed = new Set(outputs);
  const kept: OnnxGraphBuilder['nodes'] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const node = g.nodes[i];
    if (!node.outputs.some((o) => needed.has(o))) continue;
    kept.push(node);
    for (const input of node.inputs) needed.add(input);
  }
  return { nodes: kept.reverse(), initializers: g.initializers.filter((t) => needed.has(t.name)) };
}
