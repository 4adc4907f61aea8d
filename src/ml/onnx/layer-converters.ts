import type * as tf from '../tf.ts';
import type { OnnxGraphBuilder } from './graph-builder.ts';
import type { OnnxAttribute } from './onnx-model.ts';
import { UnsupportedLayerError } from './errors.ts';
import { emitNearestUpsampling } from './upsampling.ts';
import { emitInputNormalization } from './input-normalization.ts';
import { emitZeroPadding } from './zero-padding.ts';

/**
 * One converter per tfjs layer class: emits the ONNX nodes computing the layer. Values of rank 4 are
 * NCHW in the ONNX graph (tfjs: NHWC), rank-2 values are the same in both; the channel axis is 1 either
 * way. Shapes passed around are the tfjs (NHWC) ones.
 */
export interface Value {
  name: string;
  shape: ReadonlyArray<number | null>;
}

export interface ConversionContext {
  g: OnnxGraphBuilder;
  layer: tf.layers.Layer;
  inputs: readonly Value[];
  /** The batch norm layer that only consumes this conv's output: fold it into the conv's weights. */
  foldedBatchNorm?: tf.layers.Layer;
}

type Converter = (ctx: ConversionContext) => Promise<string> | string;

/** The Keras config of a Conv2D-like layer, as the exporters read it. */
export interface ConvConfig {
  kernelSize: number[];
  strides: number[];
  padding: 'same' | 'valid' | 'causal';
  dataFormat: string;
  dilationRate: number | number[];
  activation: string;
  useBias: boolean;
}
interface PoolConfig {
  poolSize: number[];
  strides: number[];
  padding: 'same' | 'valid';
  dataFormat: string;
}
interface BatchNormConfig {
  axis: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
}

const config = <T>(layer: tf.layers.Layer) => layer.getConfig() as unknown as T;
const fail = (ctx: ConversionContext, reason: string): never => {
  throw new UnsupportedLayerError(ctx.layer.name, ctx.layer.getClassName(), reason);
};

/** The ONNX axis of a tfjs axis: NHWC -> NCHW for rank 4, unchanged for rank 2. */
export function onnxAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  return rank === 4 ? [0, 2, 3, 1][a] : a;
}

/**
 * TensorFlow's 'same' padding of one spatial axis: total = max((ceil(in/stride)-1)*stride + k_eff - in, 0)
 * with k_eff = (k-1)*dilation + 1, the odd pixel at the end.
 */
export function samePadding(size: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const effective = (kernel - 1) * dilation + 1;
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + effective - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Conv/pool padding as explicit pads [top, left, bottom, right]. */
function paddingAttributes(ctx: ConversionContext, padding: string, kernel: number[], strides: number[], dilations = [1, 1]) {
  if (padding === 'valid') return [{ name: 'pads', ints: [0, 0, 0, 0] }];
  if (padding !== 'same') return fail(ctx, `padding '${padding}'`);
  const [, h, w] = ctx.inputs[0].shape;
  if (h === null || w === null) return fail(ctx, `'same' padding of an input of unknown size [${ctx.inputs[0].shape.join(', ')}]`);
  const [top, bottom] = samePadding(h, kernel[0], strides[0], dilations[0]);
  const [left, right] = samePadding(w, kernel[1], strides[1], dilations[1]);
  return [{ name: 'pads', ints: [top, left, bottom, right] }];
}

/** min(max(x, 0), max): relu6 and capped ReLU layers. */
function cappedRelu(ctx: ConversionContext, x: string, max: number, base: string): string {
  return ctx.g.node('Clip', [x, ctx.g.floats(`${base}/min`, [], new Float32Array([0])), ctx.g.floats(`${base}/max`, [], new Float32Array([max]))], base);
}

/** Emits an activation function (a Keras activation identifier) applied to `x`. */
export function activation(ctx: ConversionContext, x: string, name: string, base: string): string {
  const { g } = ctx;
  switch (name) {
    case 'linear':
      return x;
    case 'relu':
      return g.node('Relu', [x], base);
    case 'relu6':
      return cappedRelu(ctx, x, 6, base);
    case 'sigmoid':
      return g.node('Sigmoid', [x], base);
    case 'tanh':
      return g.node('Tanh', [x], base);
    case 'swish':
      return g.node('Mul', [x, g.node('Sigmoid', [x], `${base}/sigmoid`)], base);
    case 'softmax':
      return g.node('Softmax', [x], base, [{ name: 'axis', int: 1 }]); // the last tfjs axis is the channel axis 1 here
    default:
      return fail(ctx, `activation '${name}'`);
  }
}

async function values(t: tf.Tensor): Promise<Float32Array> {
  return Float32Array.from(await t.data());
}

/** The batch norm's per-channel affine map at inference: y = x * scale + shift. */
async function batchNormAffine(ctx: ConversionContext, bn: tf.layers.Layer, rank: number) {
  const c = config<BatchNormConfig>(bn);
  if (onnxAxis(c.axis, rank) !== 1) fail(ctx, `batch norm over axis ${c.axis}`);
  const weights = bn.getWeights();
  const gamma = c.scale ? await values(weights.shift()!) : undefined;
  const beta = c.center ? await values(weights.shift()!) : undefined;
  const [mean, variance] = [await values(weights[0]), await values(weights[1])];
  const scale = new Float64Array(mean.length);
  const shift = new Float64Array(mean.length);
  for (let k = 0; k < mean.length; k++) {
    scale[k] = (gamma ? gamma[k] : 1) / Math.sqrt(variance[k] + c.epsilon);
    shift[k] = (beta ? beta[k] : 0) - mean[k] * scale[k];
  }
  return { scale, shift, gamma, beta, mean, variance, epsilon: c.epsilon };
}

/** Conv2D (kernel HWIO) or DepthwiseConv2D (kernel HW C M): ONNX Conv with OIHW weights, BN folded in if given. */
async function convolution(ctx: ConversionContext, depthwise: boolean): Promise<string> {
  const c = config<ConvConfig>(ctx.layer);
  if (c.dataFormat !== 'channelsLast') fail(ctx, `data format ${c.dataFormat}`);
  const [kernel, bias] = ctx.layer.getWeights();
  const [kh, kw, cin, cout] = kernel.shape as number[];
  const k = await values(kernel);
  const outChannels = depthwise ? cin * cout : cout;
  const inPerGroup = depthwise ? 1 : cin;
  const w = new Float32Array(outChannels * inPerGroup * kh * kw);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) {
          const src = ((y * kw + x) * cin + i) * cout + o;
          // depthwise: output channel i*multiplier + o reads input channel i only (group = input channels)
          const [out, inp] = depthwise ? [i * cout + o, 0] : [o, i];
          w[((out * inPerGroup + inp) * kh + y) * kw + x] = k[src];
        }
      }
    }
  }
  const b = new Float32Array(outChannels);
  if (c.useBias && bias) b.set(await values(bias));
  if (ctx.foldedBatchNorm) {
    const { scale, shift } = await batchNormAffine(ctx, ctx.foldedBatchNorm, 4);
    const per = inPerGroup * kh * kw;
    for (let o = 0; o < outChannels; o++) {
      for (let j = o * per; j < (o + 1) * per; j++) w[j] = w[j] * scale[o];
      b[o] = b[o] * scale[o] + shift[o];
    }
  }
  const dilations = typeof c.dilationRate === 'number' ? [c.dilationRate, c.dilationRate] : c.dilationRate;
  const base = ctx.layer.name;
  const attributes = [
    { name: 'kernel_shape', ints: [kh, kw] },
    { name: 'strides', ints: c.strides },
    { name: 'dilations', ints: dilations },
    { name: 'group', int: depthwise ? cin : 1 },
    ...paddingAttributes(ctx, c.padding, [kh, kw], c.strides, dilations),
  ];
  const hasBias = ctx.foldedBatchNorm || (c.useBias && bias);
  const inputs = [ctx.inputs[0].name, ctx.g.floats(`${base}/W`, [outChannels, inPerGroup, kh, kw], w), ...(hasBias ? [ctx.g.floats(`${base}/B`, [outChannels], b)] : [])];
  const y = ctx.g.node('Conv', inputs, ctx.foldedBatchNorm ? ctx.foldedBatchNorm.name : base, attributes);
  return activation(ctx, y, c.activation, `${base}/${c.activation}`);
}

async function batchNormalization(ctx: ConversionContext): Promise<string> {
  const x = ctx.inputs[0];
  const { g, layer } = ctx;
  const bn = await batchNormAffine(ctx, layer, x.shape.length);
  const n = bn.mean.length;
  return g.node(
    'BatchNormalization',
    [x.name, g.floats(`${layer.name}/scale`, [n], bn.gamma ?? new Float32Array(n).fill(1)), g.floats(`${layer.name}/B`, [n], bn.beta ?? new Float32Array(n)), g.floats(`${layer.name}/mean`, [n], bn.mean), g.floats(`${layer.name}/var`, [n], bn.variance)],
    layer.name,
    [{ name: 'epsilon', float: bn.epsilon }],
  );
}

async function dense(ctx: ConversionContext): Promise<string> {
  const c = config<{ activation: string; useBias: boolean }>(ctx.layer);
  if (ctx.inputs[0].shape.length !== 2) fail(ctx, `input of rank ${ctx.inputs[0].shape.length} (only rank 2)`);
  const [kernel, bias] = ctx.layer.getWeights();
  const [units] = kernel.shape.slice(-1);
  const base = ctx.layer.name;
  const inputs = [ctx.inputs[0].name, ctx.g.floats(`${base}/kernel`, kernel.shape, await values(kernel))];
  if (c.useBias && bias) inputs.push(ctx.g.floats(`${base}/bias`, [units], await values(bias)));
  return activation(ctx, ctx.g.node('Gemm', inputs, base), c.activation, `${base}/${c.activation}`);
}

function pooling(op: 'MaxPool' | 'AveragePool'): Converter {
  return (ctx) => {
    const c = config<PoolConfig>(ctx.layer);
    if (c.dataFormat !== 'channelsLast') fail(ctx, `data format ${c.dataFormat}`);
    const strides = c.strides ?? c.poolSize;
    const attributes: OnnxAttribute[] = [{ name: 'kernel_shape', ints: c.poolSize }, { name: 'strides', ints: strides }, ...paddingAttributes(ctx, c.padding, c.poolSize, strides)];
    // TF's 'same' average pooling divides by the number of real (unpadded) pixels in the window (ONNX's default, stated here).
    if (op === 'AveragePool') attributes.push({ name: 'count_include_pad', int: 0 });
    return ctx.g.node(op, [ctx.inputs[0].name], ctx.layer.name, attributes);
  };
}

/** Global pooling to [N, C]: the ONNX op keeps [N, C, 1, 1], Flatten drops the 1x1. */
function globalPooling(op: 'GlobalAveragePool' | 'GlobalMaxPool'): Converter {
  return (ctx) => {
    const c = config<{ dataFormat: string }>(ctx.layer);
    if (c.dataFormat !== 'channelsLast') fail(ctx, `data format ${c.dataFormat}`);
    const pooled = ctx.g.node(op, [ctx.inputs[0].name], `${ctx.layer.name}/keepdims`);
    return ctx.g.node('Flatten', [pooled], ctx.layer.name, [{ name: 'axis', int: 1 }]);
  };
}

/** Add / Multiply of same-rank inputs, or of [N,C] with [N,H,W,C] (Keras expands the smaller rank at axis 1). */
function elementwise(op: 'Add' | 'Mul'): Converter {
  return (ctx) => {
    const rank = Math.max(...ctx.inputs.map((v) => v.shape.length));
    const operands = ctx.inputs.map((v, i) => {
      if (v.shape.length === rank) return v.name;
      if (v.shape.length !== 2 || rank !== 4) return fail(ctx, `inputs of ranks ${ctx.inputs.map((u) => u.shape.length).join(', ')}`);
      // [N,C] -> NHWC [N,1,1,C] in tfjs, which is [N,C,1,1] in NCHW
      return ctx.g.node('Unsqueeze', [v.name, ctx.g.int64s(`${ctx.layer.name}/axes`, [2, 3])], `${ctx.layer.name}/expand${i}`);
    });
    let y = operands[0];
    for (let i = 1; i < operands.length; i++) y = ctx.g.node(op, [y, operands[i]], ctx.layer.name);
    return y;
  };
}

function concatenate(ctx: ConversionContext): string {
  const rank = ctx.inputs[0].shape.length;
  if (ctx.inputs.some((v) => v.shape.length !== rank)) fail(ctx, 'inputs of different ranks');
  const axis = onnxAxis(config<{ axis: number }>(ctx.layer).axis, rank);
  return ctx.g.node('Concat', ctx.inputs.map((v) => v.name), ctx.layer.name, [{ name: 'axis', int: axis }]);
}

/** tfjs flattens NHWC in (h, w, c) order: go back to NHWC first unless the map is 1x1. */
function flatten(ctx: ConversionContext): string {
  const x = ctx.inputs[0];
  if (x.shape.length === 2) return x.name;
  const [, h, w] = x.shape;
  const nhwc = h === 1 && w === 1 ? x.name : ctx.g.node('Transpose', [x.name], `${ctx.layer.name}/nhwc`, [{ name: 'perm', ints: [0, 2, 3, 1] }]);
  return ctx.g.node('Flatten', [nhwc], ctx.layer.name, [{ name: 'axis', int: 1 }]);
}

/** Nearest upsampling by whole factors (as the training emitter, layers/shape.ts). */
function upSampling2d(ctx: ConversionContext): string {
  const c = config<{ size: number[]; interpolation?: string; dataFormat: string }>(ctx.layer);
  if ((c.interpolation ?? 'nearest') !== 'nearest' || c.dataFormat !== 'channelsLast') fail(ctx, `${c.interpolation} interpolation, ${c.dataFormat}`);
  return emitNearestUpsampling(ctx.g, ctx.inputs[0].name, c.size, ctx.layer.name);
}

function relu(ctx: ConversionContext): string {
  const { maxValue } = config<{ maxValue?: number | null }>(ctx.layer);
  if (maxValue === undefined || maxValue === null) return ctx.g.node('Relu', [ctx.inputs[0].name], ctx.layer.name);
  return cappedRelu(ctx, ctx.inputs[0].name, maxValue, ctx.layer.name);
}

function softmax(ctx: ConversionContext): string {
  const x = ctx.inputs[0];
  const axis = onnxAxis(config<{ axis: number }>(ctx.layer).axis, x.shape.length);
  return ctx.g.node('Softmax', [x.name], ctx.layer.name, [{ name: 'axis', int: axis }]);
}

const identity: Converter = (ctx) => ctx.inputs[0].name;

/** Converters by tfjs class name (our LeanConv2D / FastBatchNormalization register as Conv2D / BatchNormalization). */
export const converters: Readonly<Record<string, Converter>> = {
  Conv2D: (ctx) => convolution(ctx, false),
  DepthwiseConv2D: (ctx) => convolution(ctx, true),
  BatchNormalization: batchNormalization,
  Dense: dense,
  Activation: (ctx) => activation(ctx, ctx.inputs[0].name, config<{ activation: string }>(ctx.layer).activation, ctx.layer.name),
  ReLU: relu,
  Softmax: softmax,
  MaxPooling2D: pooling('MaxPool'),
  AveragePooling2D: pooling('AveragePool'),
  GlobalAveragePooling2D: globalPooling('GlobalAveragePool'),
  GlobalMaxPooling2D: globalPooling('GlobalMaxPool'),
  Add: elementwise('Add'),
  Multiply: elementwise('Mul'),
  Concatenate: concatenate,
  Flatten: flatten,
  UpSampling2D: upSampling2d,
  Dropout: identity,
  ZeroPadding2D: (ctx) => emitZeroPadding(ctx.g, ctx.layer, ctx.inputs[0].name),
  InputNormalization: (ctx) => emitInputNormalization(ctx.g, ctx.layer, ctx.inputs[0]).output,
};
