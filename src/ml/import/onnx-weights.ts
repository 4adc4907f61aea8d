import * as tf from '../tf.ts';
import { samePadding } from '../onnx/layer-converters.ts';
import { readOnnxModel } from '../onnx/onnx-reader.ts';
import { zeroPaddingPads } from '../onnx/zero-padding.ts';
import { asLinear, describeOnnxLayer, f32, onnxLayers, type OnnxLayer } from './onnx-layers.ts';
import { swinWindowPadding, TRANSFORMER_CLASSES, transformerLayerWeights, type GridChange, type SwinWindowPadding } from './transformer-weights.ts';
import { structuralOrder } from './structural-order.ts';

/** The ONNX weights do not fit the architecture: names the layer on both sides and the shapes. */
export class WeightImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WeightImportError';
  }
}

export interface ImportResult {
  /** Layers of the model that received weights. */
  loaded: number;
  /** The classifier kept its fresh initialisation (the class counts differ). */
  headReplaced: boolean;
  /** The first convolution's 3-channel filters were summed for a 1-channel input. */
  inputChannelsSummed: boolean;
  /** Batch norms the exporter had folded into their convolution (restored as identity + bias). */
  foldedBatchNorms: number;
  /** The export's position embedding was resampled to the model's patch grid (another image size), as torchvision or timm does. */
  positionEmbeddingResampled?: GridChange;
  /** Swin's windows are padded at this size (torchvision's behaviour, which timm's differs from there). */
  swinWindowsPadded?: SwinWindowPadding;
}

type SymbolicTensor = tf.SymbolicTensor;
interface LayerNode {
  outboundLayer: tf.layers.Layer;
  inputTensors: SymbolicTensor[];
  outputTensors: SymbolicTensor[];
}
const nodeOf = (t: SymbolicTensor) => t.sourceLayer.inboundNodes[t.nodeIndex] as unknown as LayerNode;
const WEIGHT_CLASSES = new Set(['Conv2D', 'DepthwiseConv2D', 'BatchNormalization', 'Dense', ...TRANSFORMER_CLASSES]);

/** The model's weight-bearing layer calls in structural order (see structural-order.ts). */
export function modelLayerNodes(model: tf.LayersModel): LayerNode[] {
  const isInput = (n: LayerNode) => n.outboundLayer.getClassName() === 'InputLayer';
  const order = structuralOrder(nodeOf(model.outputs[0]), {
    inputs: (n) => (isInput(n) ? [] : n.inputTensors.map(nodeOf)),
    carriesWeights: (n) => WEIGHT_CLASSES.has(n.outboundLayer.getClassName()),
    commutative: (n) => ['Add', 'Multiply'].includes(n.outboundLayer.getClassName()),
  });
  return order.filter((n) => WEIGHT_CLASSES.has(n.outboundLayer.getClassName()));
}

/**
 * Loads the weights of an ONNX export of a torchvision/timm network into the zoo model of the same
 * architecture. Tensors are mapped by graph structure, not by name: both graphs' weight-bearing layers
 * in structural order, matched one to one with their roles and shapes checked (convolution kernel,
 * stride, padding, groups; batch-norm channels; linear sizes). Batch norms the exporter folded into a
 * convolution become identity-plus-bias batch norms. The classifier is kept fresh when the class
 * counts differ; a 1-channel model gets the first convolution's filters summed over RGB (as timm
 * does). Nothing is written unless every layer fits; otherwise WeightImportError names the layer.
 */
export function importOnnxWeights(model: tf.LayersModel, bytes: Uint8Array): ImportResult {
  const theirs = onnxLayers(readOnnxModel(bytes));
  const ours = modelLayerNodes(model);
  const headNode = ours[ours.length - 1];
  const writes: Array<{ layer: tf.layers.Layer; values: Float32Array[] }> = [];
  const result: ImportResult = { loaded: 0, headReplaced: false, inputChannelsSummed: false, foldedBatchNorms: 0 };
  let j = 0;
  const fail = (node: LayerNode, expected: string, found?: OnnxLayer): never => {
    throw new WeightImportError(`layer ${node.outboundLayer.name} (${node.outboundLayer.getClassName()}, #${ours.indexOf(node) + 1} of ${ours.length} weight layers of ${model.name}) expects ${expected}; ${found ? `found ${describeOnnxLayer(found)} (#${theirs.indexOf(found) + 1} of ${theirs.length})` : `the ONNX graph has no layer left (${theirs.length} in all)`}`);
  };

  for (let i = 0; i < ours.length; i++) {
    const node = ours[i];
    const layer = node.outboundLayer;
    const cls = layer.getClassName();
    const t = theirs[j];
    if (cls === 'Conv2D' || cls === 'DepthwiseConv2D') {
      const depthwise = cls === 'DepthwiseConv2D';
      const geometry = convGeometry(node);
      const expected = `a ${depthwise ? 'depthwise ' : ''}convolution ${geometry.describe}`;
      if (!t || t.kind !== 'conv') fail(node, expected, t);
      const conv = t as Extract<OnnxLayer, { kind: 'conv' }>;
      const [co, ci, kh, kw] = conv.weight.dims;
      const groups = depthwise ? geometry.cin : 1;
      const sumChannels = !depthwise && j === 0 && geometry.cin === 1 && ci === 3;
      const fits =
        conv.weight.dims.length === 4 &&
        kh === geometry.kh && kw === geometry.kw && co === geometry.cout && (sumChannels || ci * conv.group === geometry.cin) && conv.group === groups &&
        conv.strides.every((s, k) => s === geometry.strides[k]) && conv.pads.every((p, k) => p === geometry.pads[k]) && conv.dilations.every((d) => d === 1);
      if (!fits) fail(node, expected, conv);
      let weight = conv.weight.data as Float32Array;
      if (sumChannels) {
        weight = sumInputChannels(weight, co, ci, kh * kw);
        result.inputChannelsSummed = true;
      }
      const kernel = depthwise ? oihwToHwio(weight, co, 1, kh, kw) : oihwToHwio(weight, co, geometry.cin, kh, kw);
      const useBias = (layer.getConfig() as { useBias: boolean }).useBias;
      const next = ours[i + 1];
      const bnNext = next && next.outboundLayer.getClassName() === 'BatchNormalization' && next.inputTensors[0] === node.outputTensors[0] ? next : undefined;
      const theirBn = theirs[j + 1]?.kind === 'batchnorm' && (theirs[j + 1] as Extract<OnnxLayer, { kind: 'batchnorm' }>).input === conv.output ? (theirs[j + 1] as Extract<OnnxLayer, { kind: 'batchnorm' }>) : undefined;
      const bias = conv.bias ? Float32Array.from(conv.bias.data as Float32Array) : new Float32Array(co);
      if (useBias) {
        writes.push({ layer, values: [kernel, bias] });
        j += 1;
        continue;
      }
      writes.push({ layer, values: [kernel] });
      j += 1;
      if (!bnNext) {
        if (theirBn) fail(node, `${expected} without a batch norm after it`, theirBn);
        if (conv.bias && bias.some((v) => v !== 0)) fail(node, `${expected} without a bias`, conv);
        continue;
      }
      const eps = bnEpsilon(bnNext.outboundLayer);
      if (theirBn) {
        if (theirBn.scale.dims[0] !== co) fail(bnNext, `a batch norm of ${co} channels`, theirBn);
        // a conv bias before the batch norm shifts its mean
        const mean = Float32Array.from(theirBn.mean.data as Float32Array, (m, k) => m - bias[k]);
        writes.push({ layer: bnNext.outboundLayer, values: [f32(theirBn.scale), f32(theirBn.bias), mean, Float32Array.from(theirBn.variance.data as Float32Array, (v) => v + theirBn.epsilon - eps)] });
        j += 1;
      } else {
        // folded by the exporter: conv(x) + bias == batch norm with mean 0, variance 1 - eps, scale 1, shift bias
        writes.push({ layer: bnNext.outboundLayer, values: [new Float32Array(co).fill(1), bias, new Float32Array(co), new Float32Array(co).fill(1 - eps)] });
        result.foldedBatchNorms++;
      }
      i += 1;
    } else if (cls === 'BatchNormalization') {
      const channels = (layer.getWeights()[0]?.shape[0] ?? 0) as number;
      if (!t || t.kind !== 'batchnorm' || t.scale.dims[0] !== channels) fail(node, `a batch norm of ${channels} channels`, t);
      const bn = t as Extract<OnnxLayer, { kind: 'batchnorm' }>;
      writes.push({ layer, values: [f32(bn.scale), f32(bn.bias), f32(bn.mean), Float32Array.from(bn.variance.data as Float32Array, (v) => v + bn.epsilon - bnEpsilon(layer))] });
      j += 1;
    } else if (TRANSFORMER_CLASSES.has(cls)) {
      const { values, consumed, resampled } = transformerLayerWeights(layer, theirs, j, (expected, found) => fail(node, expected, found));
      writes.push({ layer, values });
      if (resampled) result.positionEmbeddingResampled = resampled;
      j += consumed;
    } else {
      const [kernel] = layer.getWeights();
      const [inputs, outputs] = kernel.shape as [number, number];
      const linear = t ? asLinear(t) : undefined;
      if (!linear || linear.inputs !== inputs || (linear.outputs !== outputs && node !== headNode)) fail(node, `a linear layer ${inputs} -> ${outputs}`, t);
      j += 1;
      if (linear!.outputs !== outputs) {
        result.headReplaced = true;
        continue;
      }
      const useBias = (layer.getConfig() as { useBias: boolean }).useBias;
      writes.push({ layer, values: useBias ? [linear!.weight, linear!.bias ?? new Float32Array(outputs)] : [linear!.weight] });
    }
  }
  if (j < theirs.length) {
    throw new WeightImportError(`the ONNX graph has ${theirs.length - j} weight layer(s) more than ${model.name} (${theirs.length} against ${ours.length}); the first one left: ${describeOnnxLayer(theirs[j])}`);
  }
  for (const { layer, values } of writes) {
    const shapes = layer.getWeights().map((w) => w.shape);
    const tensors = values.map((v, k) => tf.tensor(v, shapes[k]));
    layer.setWeights(tensors);
    tf.dispose(tensors);
  }
  result.loaded = new Set(writes.map((w) => w.layer)).size;
  const padded = swinWindowPadding(ours.map((n) => ({ layer: n.outboundLayer, inputShape: n.inputTensors[0].shape as number[] })));
  if (padded) result.swinWindowsPadded = padded;
  return result;
}

interface ConvGeometry {
  kh: number;
  kw: number;
  cin: number;
  cout: number;
  strides: number[];
  /** ONNX order: top, left, bottom, right. */
  pads: number[];
  describe: string;
}

/** A conv layer's kernel, strides and padding (a ZeroPadding2D layer feeding it counts as its padding). */
function convGeometry(node: LayerNode): ConvGeometry {
  const layer = node.outboundLayer;
  const c = layer.getConfig() as { kernelSize: number[]; strides: number[]; padding: string; filters?: number };
  const input = node.inputTensors[0];
  const [, h, w, cin] = input.shape as number[];
  const [kh, kw] = c.kernelSize;
  const cout = c.filters ?? cin;
  let pads = [0, 0, 0, 0];
  if (c.padding === 'same') {
    const [top, bottom] = samePadding(h, kh, c.strides[0]);
    const [left, right] = samePadding(w, kw, c.strides[1]);
    pads = [top, left, bottom, right];
  } else if (input.sourceLayer.getClassName() === 'ZeroPadding2D') {
    const [, , top, left, , , bottom, right] = zeroPaddingPads(input.sourceLayer);
    pads = [top, left, bottom, right];
  }
  return { kh, kw, cin, cout, strides: c.strides, pads, describe: `${kh}x${kw}, ${cin} -> ${cout} channels (ONNX weight [${cout}, ${c.filters === undefined ? 1 : cin}, ${kh}, ${kw}]), stride ${c.strides.join('x')}, pads [${pads.join(', ')}]` };
}

function bnEpsilon(layer: tf.layers.Layer): number {
  return (layer.getConfig() as { epsilon: number }).epsilon;
}

/** [O, I, H, W] -> [H, W, I, O]. */
function oihwToHwio(data: Float32Array, o: number, i: number, h: number, w: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[((y * w + x) * i + b) * o + a] = data[((a * i + b) * h + y) * w + x];
  return out;
}

/** [O, I, K] summed over I -> [O, 1, K]. */
function sumInputChannels(data: Float32Array, o: number, i: number, k: number): Float32Array {
  const out = new Float32Array(o * k);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let p = 0; p < k; p++) out[a * k + p] += data[(a * i + b) * k + p];
  return out;
}
