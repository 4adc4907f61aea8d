import type * as tf from '../../tf.ts';
import { FastBatchNormalization } from '../../layers/batch-norm.ts';
import { UnsupportedLayerError } from '../errors.ts';
import type { OnnxGraphBuilder } from '../graph-builder.ts';
import { onnxAxis, samePadding, type ConvConfig } from '../layer-converters.ts';
import { inverseCount, maskGrad, multiOutputNode, reduceMean, reduceSum, reshape, scalar } from './graph-ops.ts';
import { zeroPadding2d } from './zero-padding-emitter.ts';
import { transformerEmitters } from './layers/transformer.ts';

/**
 * Forward (training mode) and backward emitters per tfjs layer class, in NCHW. Each emitter writes the
 * layer's forward nodes and returns a `backward` that, given the name of the output's gradient, writes
 * the nodes of the gradients of its inputs (those asked for) and of its trainable weights.
 */

export type LayerVariable = tf.LayerVariable;

/** How a weight is stored in the graph: as in tfjs, or a conv kernel HWIO -> OIHW. */
export type WeightLayout = 'same' | 'hwio-as-oihw';

export interface Value {
  name: string;
  /** tfjs (NHWC) shape. */
  shape: ReadonlyArray<number | null>;
}

export interface EmitContext {
  g: OnnxGraphBuilder;
  layer: tf.layers.Layer;
  inputs: readonly Value[];
  outputShape: ReadonlyArray<number | null>;
  /** The graph value holding a trainable weight (stored in `layout`). */
  weight(v: LayerVariable, layout?: WeightLayout): string;
  /** The graph value holding a non-trainable state tensor (BN moving statistics) and where its next value is set. */
  state(v: LayerVariable): string;
  setNextState(v: LayerVariable, next: string): void;
}

export interface Backward {
  /** Gradient per input, undefined where not asked for. */
  inputs: (string | undefined)[];
  weights: [LayerVariable, string][];
}

export interface Emitted {
  output: string;
  backward(dy: string, wantInputs: readonly boolean[]): Backward;
}

type Emitter = (ctx: EmitContext) => Emitted;

const fail = (ctx: EmitContext, reason?: string): never => {
  throw new UnsupportedLayerError(ctx.layer.name, ctx.layer.getClassName(), reason);
};
const config = <T>(layer: tf.layers.Layer) => layer.getConfig() as unknown as T;
const dims = (ctx: EmitContext, shape: ReadonlyArray<number | null>) => {
  if (shape.slice(1).some((d) => d === null)) fail(ctx, `unknown dimensions in [${shape.join(', ')}]`);
  return shape.slice(1) as number[];
};
const NCHW_BATCH_AND_SPACE = [0, 2, 3];

/** An activation (a Keras identifier) and its gradient. */
function activation(ctx: EmitContext, x: string, kind: string, base: string): { y: string; grad(dy: string): string } {
  const { g } = ctx;
  switch (kind) {
    case 'linear':
      return { y: x, grad: (dy) => dy };
    case 'relu': {
      const y = g.node('Relu', [x], base);
      return { y, grad: (dy) => maskGrad(g, g.node('Greater', [y, scalar(g, 0, `${base}/zero`)], `${base}/positive`), dy, `${base}/grad`) };
    }
    case 'sigmoid': {
      // tfjs: dy * y * (1 - y)
      const y = g.node('Sigmoid', [x], base);
      return { y, grad: (dy) => g.node('Mul', [dy, g.node('Mul', [y, g.node('Sub', [scalar(g, 1, `${base}/one`), y], `${base}/1-y`)], `${base}/dydx`)], `${base}/grad`) };
    }
    case 'softmax': {
      if (ctx.outputShape.length !== 2) fail(ctx, 'softmax over a rank > 2 tensor');
      // tfjs: dy*y - sum(dy*y, classes) * y
      const y = g.node('Softmax', [x], base, [{ name: 'axis', int: 1 }]);
      return {
        y,
        grad: (dy) => {
          const dyY = g.node('Mul', [dy, y], `${base}/dy*y`);
          return g.node('Sub', [dyY, g.node('Mul', [reduceSum(g, dyY, [1], true, `${base}/sum`), y], `${base}/sum*y`)], `${base}/grad`);
        },
      };
    }
    default:
      return fail(ctx, `activation '${kind}'`);
  }
}

function conv2d(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const c = config<ConvConfig>(layer);
  if (c.dataFormat !== 'channelsLast') fail(ctx, `data format ${c.dataFormat}`);
  const dilations = typeof c.dilationRate === 'number' ? [c.dilationRate, c.dilationRate] : c.dilationRate;
  if (dilations.some((d) => d !== 1)) fail(ctx, `dilation ${dilations.join('x')}`);
  if (c.padding !== 'same' && c.padding !== 'valid') fail(ctx, `padding '${c.padding}'`);
  const [h, w, cin] = dims(ctx, ctx.inputs[0].shape);
  const [ho, wo] = dims(ctx, ctx.outputShape);
  const [kh, kw] = c.kernelSize;
  const [sh, sw] = c.strides;
  const [top, bottom] = c.padding === 'same' ? samePadding(h, kh, sh) : [0, 0];
  const [left, right] = c.padding === 'same' ? samePadding(w, kw, sw) : [0, 0];
  const pads = [top, left, bottom, right];
  const [kernelVar, biasVar] = layer.trainableWeights;
  if (!kernelVar || (c.useBias && !biasVar)) fail(ctx, 'frozen weights');
  const kernel = ctx.weight(kernelVar, 'hwio-as-oihw');
  const bias = c.useBias ? ctx.weight(biasVar) : undefined;
  const base = layer.name;
  const convAttributes = [{ name: 'kernel_shape', ints: [kh, kw] }, { name: 'strides', ints: [sh, sw] }, { name: 'pads', ints: pads }];
  const z = g.node('Conv', [ctx.inputs[0].name, kernel, ...(bias ? [bias] : [])], base, convAttributes);
  const act = activation(ctx, z, c.activation, `${base}/${c.activation}`);
  return {
    output: act.y,
    backward(dy, [wantInput]) {
      const dz = act.grad(dy);
      const weights: [LayerVariable, string][] = [[kernelVar, convFilterGrad(g, ctx.inputs[0].name, dz, { cin, kh, kw, sh, sw, pads, ho, wo }, base)]];
      if (bias) weights.push([biasVar, reduceSum(g, dz, NCHW_BATCH_AND_SPACE, false, `${base}/dbias`)]);
      if (!wantInput) return { inputs: [undefined], weights };
      if (sh === 1 && sw === 1) {
        // stride 1: a convolution of dy with the kernel flipped and its in/out channels swapped, which ORT
        // runs faster than ConvTranspose (small-cnn 64 px, batch 32: 165 ms per step against 225 ms)
        const swapped = g.node('Transpose', [kernel], `${base}/kernel_io`, [{ name: 'perm', ints: [1, 0, 2, 3] }]);
        const flipped = g.node('Slice', [swapped, g.int64s(`${base}/flip_starts`, [-1, -1]), g.int64s(`${base}/flip_ends`, [-kh - 1, -kw - 1]), g.int64s(`${base}/flip_axes`, [2, 3]), g.int64s(`${base}/flip_steps`, [-1, -1])], `${base}/kernel_flipped`);
        const dxPads = [kh - 1 - top, kw - 1 - left, kh - 1 - bottom, kw - 1 - right];
        return { inputs: [g.node('Conv', [dz, flipped], `${base}/dx`, [{ name: 'kernel_shape', ints: [kh, kw] }, { name: 'pads', ints: dxPads }])], weights };
      }
      // ConvTranspose of dy with the forward kernel; output_padding restores the rows/columns a strided
      // conv without padding on that side never reached.
      const outputPadding = [h - ((ho - 1) * sh + kh - top - bottom), w - ((wo - 1) * sw + kw - left - right)];
      const dx = g.node('ConvTranspose', [dz, kernel], `${base}/dx`, [...convAttributes, { name: 'output_padding', ints: outputPadding }]);
      return { inputs: [dx], weights };
    },
  };
}

interface ConvGeometry {
  cin: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pads: number[];
  ho: number;
  wo: number;
}

/** Up to this many input channels, the filter gradient stacks its kernel taps into one matrix product. */
const STACKED_TAPS_MAX_CHANNELS = 16;

/**
 * dW[o,i,ky,kx] = sum over n, y, x of dy[n,o,y,x] * xpad[n,i,y*s+ky,x*s+kx]: dy as [Cout, N*Ho*Wo] times,
 * per kernel tap (ky, kx), the strided slice of the padded input in CNHW at (ky, kx) as [Cin, N*Ho*Wo],
 * transposed. One product per tap, except for few input channels (the stem), where a product per tap
 * would be a matrix-vector product: there the taps are stacked ([K*Cin, N*Ho*Wo], a small copy) into one
 * (ResNet-18 128 px, batch 32: the stem's 49 taps of 1 channel took 403 ms per step, stacked 63 ms).
 * Measured (small-cnn 64 px, batch 32, 1 thread) against a convolution of the input with the batch as
 * channels by dy as a dilated filter: 335 ms per step against 650 ms; against stacking every layer's
 * taps: 545 ms (the Concat copies alone 173 ms).
 */
function convFilterGrad(g: OnnxGraphBuilder, x: string, dy: string, k: ConvGeometry, base: string): string {
  const [top, left, bottom, right] = k.pads;
  let xT = g.node('Transpose', [x], `${base}/x_cnhw`, [{ name: 'perm', ints: [1, 0, 2, 3] }]);
  if (k.pads.some((p) => p > 0)) xT = g.node('Pad', [xT, g.int64s(`${base}/pads`, [0, 0, top, left, 0, 0, bottom, right])], `${base}/x_pad`);
  const dyMat = reshape(g, g.node('Transpose', [dy], `${base}/dy_cnhw`, [{ name: 'perm', ints: [1, 0, 2, 3] }]), [0, -1], `${base}/dy_mat`);
  const taps: string[] = [];
  for (let ky = 0; ky < k.kh; ky++) {
    for (let kx = 0; kx < k.kw; kx++) {
      const starts = g.int64s(`${base}/starts`, [ky, kx]);
      const ends = g.int64s(`${base}/ends`, [ky + (k.ho - 1) * k.sh + 1, kx + (k.wo - 1) * k.sw + 1]);
      const slice = g.node('Slice', [xT, starts, ends, g.int64s(`${base}/axes`, [2, 3]), g.int64s(`${base}/steps`, [k.sh, k.sw])], `${base}/tap`);
      taps.push(reshape(g, slice, [0, -1], `${base}/tap_mat`));
    }
  }
  const product = (cols: string, name: string) => g.node('Gemm', [dyMat, cols], name, [{ name: 'transB', int: 1 }]);
  if (taps.length === 1) return reshape(g, product(taps[0], `${base}/dw_flat`), [0, 0, k.kh, k.kw], `${base}/dw`);
  if (k.cin <= STACKED_TAPS_MAX_CHANNELS) {
    const stacked = g.node('Concat', taps, `${base}/taps`, [{ name: 'axis', int: 0 }]); // [K*Cin, N*Ho*Wo], row k*Cin + i
    const dwKI = reshape(g, product(stacked, `${base}/dw_flat`), [0, k.kh * k.kw, k.cin], `${base}/dw_ki`);
    return reshape(g, g.node('Transpose', [dwKI], `${base}/dw_ik`, [{ name: 'perm', ints: [0, 2, 1] }]), [0, 0, k.kh, k.kw], `${base}/dw`);
  }
  const perTap = taps.map((t) => g.node('Unsqueeze', [product(t, `${base}/dw_tap`), g.int64s(`${base}/axis`, [2])], `${base}/dw_tap3`));
  return reshape(g, g.node('Concat', perTap, `${base}/dw_taps`, [{ name: 'axis', int: 2 }]), [0, 0, k.kh, k.kw], `${base}/dw`); // [Cout, Cin, K]
}

interface BatchNormConfig {
  axis: number;
  epsilon: number;
  momentum: number;
  center: boolean;
  scale: boolean;
}

/**
 * FastBatchNormalization in training mode: batch mean and biased variance over N, H, W, y = (x - mean) *
 * gamma / sqrt(var + eps) + beta; moving stats += (batch stat - moving) * (1 - momentum). Backward in
 * closed form (as batch-norm-ops.ts): dx = a*dy - xc * a*sum(dy*xc)*inv^2/m - a*sum(dy)/m, a = gamma*inv.
 */
function batchNorm(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  if (!(layer instanceof FastBatchNormalization)) fail(ctx, 'not the FastBatchNormalization class (its training maths is the one emitted)');
  const c = config<BatchNormConfig>(layer);
  const rank = ctx.inputs[0].shape.length;
  if (rank !== 4 || onnxAxis(c.axis, rank) !== 1) fail(ctx, `axis ${c.axis} of a rank-${rank} input`);
  if (!c.center || !c.scale) fail(ctx, 'center or scale off');
  const [gammaVar, betaVar] = layer.trainableWeights;
  const [meanVar, varianceVar] = layer.nonTrainableWeights;
  if (!gammaVar || !betaVar) fail(ctx, 'frozen weights');
  const channels = dims(ctx, ctx.inputs[0].shape)[2];
  const base = layer.name;
  const x = ctx.inputs[0].name;
  const mean = reduceMean(g, x, NCHW_BATCH_AND_SPACE, true, `${base}/mean`);
  const xc = g.node('Sub', [x, mean], `${base}/xc`);
  const variance = reduceMean(g, g.node('Mul', [xc, xc], `${base}/xc2`), NCHW_BATCH_AND_SPACE, true, `${base}/var`);
  const invStd = g.node('Reciprocal', [g.node('Sqrt', [g.node('Add', [variance, scalar(g, c.epsilon, `${base}/eps`)], `${base}/var+eps`)], `${base}/std`)], `${base}/inv_std`);
  const a = g.node('Mul', [reshape(g, ctx.weight(gammaVar), [1, channels, 1, 1], `${base}/gamma4`), invStd], `${base}/a`);
  const y = g.node('Add', [g.node('Mul', [xc, a], `${base}/xc*a`), reshape(g, ctx.weight(betaVar), [1, channels, 1, 1], `${base}/beta4`)], base);
  const keep = scalar(g, 1 - c.momentum, `${base}/1-momentum`);
  for (const [label, variable, batchStat] of [['moving_mean', meanVar, mean], ['moving_variance', varianceVar, variance]] as const) {
    const old = ctx.state(variable);
    const stat = reshape(g, batchStat, [channels], `${base}/${label}/batch`);
    ctx.setNextState(variable, g.node('Sub', [old, g.node('Mul', [g.node('Sub', [old, stat], `${base}/${label}/drift`), keep], `${base}/${label}/step`)], `${base}/${label}`));
  }
  return {
    output: y,
    backward(dy, [wantInput]) {
      const sumDy = reduceSum(g, dy, NCHW_BATCH_AND_SPACE, true, `${base}/sum_dy`);
      const sumDyXc = reduceSum(g, g.node('Mul', [dy, xc], `${base}/dy*xc`), NCHW_BATCH_AND_SPACE, true, `${base}/sum_dy_xc`);
      const weights: [LayerVariable, string][] = [
        [gammaVar, reshape(g, g.node('Mul', [sumDyXc, invStd], `${base}/dgamma4`), [channels], `${base}/dgamma`)],
        [betaVar, reshape(g, sumDy, [channels], `${base}/dbeta`)],
      ];
      if (!wantInput) return { inputs: [undefined], weights };
      const invM = inverseCount(g, x, NCHW_BATCH_AND_SPACE, `${base}/inv_m`);
      const k = g.node('Mul', [g.node('Mul', [g.node('Mul', [a, sumDyXc], `${base}/a*sdx`), g.node('Mul', [invStd, invStd], `${base}/inv2`)], `${base}/k_m`), invM], `${base}/k`);
      const d = g.node('Mul', [g.node('Mul', [a, sumDy], `${base}/a*sd`), invM], `${base}/d`);
      const dx = g.node('Sub', [g.node('Sub', [g.node('Mul', [dy, a], `${base}/dy*a`), g.node('Mul', [xc, k], `${base}/xc*k`)], `${base}/dx_part`), d], `${base}/dx`);
      return { inputs: [dx], weights };
    },
  };
}

interface PoolConfig {
  poolSize: number[];
  strides: number[] | null;
  padding: 'same' | 'valid';
  dataFormat: string;
}

/**
 * Max pooling; the gradient goes to the position MaxPool's Indices output names (the first maximum of
 * the window in row-major order, as tfjs's cpu backend picks), summed where windows overlap.
 */
function maxPool(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const c = config<PoolConfig>(layer);
  if (c.dataFormat !== 'channelsLast') fail(ctx, `data format ${c.dataFormat}`);
  const strides = c.strides ?? c.poolSize;
  const [h, w] = dims(ctx, ctx.inputs[0].shape);
  const [top, bottom] = c.padding === 'same' ? samePadding(h, c.poolSize[0], strides[0]) : [0, 0];
  const [left, right] = c.padding === 'same' ? samePadding(w, c.poolSize[1], strides[1]) : [0, 0];
  const base = layer.name;
  const x = ctx.inputs[0].name;
  const [y, indices] = multiOutputNode(g, 'MaxPool', [x], [base, `${base}/indices`], [
    { name: 'kernel_shape', ints: c.poolSize },
    { name: 'strides', ints: strides },
    { name: 'pads', ints: [top, left, bottom, right] },
  ]);
  return {
    output: y,
    backward(dy, [wantInput]) {
      if (!wantInput) return { inputs: [undefined], weights: [] };
      const shape = g.node('Shape', [x], `${base}/x_shape`);
      const zeros = reshape(g, g.node('ConstantOfShape', [shape], `${base}/zeros`), [-1], `${base}/zeros_flat`);
      const flat = g.node('ScatterElements', [zeros, reshape(g, indices, [-1], `${base}/indices_flat`), reshape(g, dy, [-1], `${base}/dy_flat`)], `${base}/dx_flat`, [
        { name: 'axis', int: 0 },
        { name: 'reduction', string: 'add' },
      ]);
      return { inputs: [g.node('Reshape', [flat, shape], `${base}/dx`)], weights: [] };
    },
  };
}

function globalAveragePool(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const c = config<{ dataFormat: string; keepDims?: boolean }>(layer);
  if (c.dataFormat !== 'channelsLast' || c.keepDims) fail(ctx, `data format ${c.dataFormat}${c.keepDims ? ', keepDims' : ''}`);
  const [h, w] = dims(ctx, ctx.inputs[0].shape);
  const base = layer.name;
  const x = ctx.inputs[0].name;
  return {
    output: reduceMean(g, x, [2, 3], false, base),
    backward(dy, [wantInput]) {
      if (!wantInput) return { inputs: [undefined], weights: [] };
      const scaled = g.node('Mul', [dy, scalar(g, 1 / (h * w), `${base}/inv_hw`)], `${base}/dy_mean`);
      const expanded = g.node('Unsqueeze', [scaled, g.int64s(`${base}/axes`, [2, 3])], `${base}/dy4`);
      return { inputs: [g.node('Expand', [expanded, g.node('Shape', [x], `${base}/x_shape`)], `${base}/dx`)], weights: [] };
    },
  };
}

function dense(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const c = config<{ activation: string; useBias: boolean }>(layer);
  if (ctx.inputs[0].shape.length !== 2) fail(ctx, `input of rank ${ctx.inputs[0].shape.length} (only rank 2)`);
  const [kernelVar, biasVar] = layer.trainableWeights;
  if (!kernelVar || (c.useBias && !biasVar)) fail(ctx, 'frozen weights');
  const kernel = ctx.weight(kernelVar);
  const bias = c.useBias ? ctx.weight(biasVar) : undefined;
  const base = layer.name;
  const x = ctx.inputs[0].name;
  const z = g.node('Gemm', [x, kernel, ...(bias ? [bias] : [])], base);
  const act = activation(ctx, z, c.activation, `${base}/${c.activation}`);
  return {
    output: act.y,
    backward(dy, [wantInput]) {
      const dz = act.grad(dy);
      const weights: [LayerVariable, string][] = [[kernelVar, g.node('Gemm', [x, dz], `${base}/dkernel`, [{ name: 'transA', int: 1 }])]];
      if (bias) weights.push([biasVar, reduceSum(g, dz, [0], false, `${base}/dbias`)]);
      return { inputs: [wantInput ? g.node('Gemm', [dz, kernel], `${base}/dx`, [{ name: 'transB', int: 1 }]) : undefined], weights };
    },
  };
}

function activationLayer(ctx: EmitContext): Emitted {
  const act = activation(ctx, ctx.inputs[0].name, config<{ activation: string }>(ctx.layer).activation, ctx.layer.name);
  return { output: act.y, backward: (dy) => ({ inputs: [act.grad(dy)], weights: [] }) };
}

function add(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const rank = ctx.inputs[0].shape.length;
  if (ctx.inputs.some((v) => v.shape.length !== rank || v.shape.some((d, i) => d !== ctx.inputs[0].shape[i]))) fail(ctx, 'inputs of different shapes (broadcasting)');
  let y = ctx.inputs[0].name;
  for (const v of ctx.inputs.slice(1)) y = g.node('Add', [y, v.name], layer.name);
  return { output: y, backward: (dy, want) => ({ inputs: want.map((w) => (w ? dy : undefined)), weights: [] }) };
}

function dropout(ctx: EmitContext): Emitted {
  const { rate } = config<{ rate: number }>(ctx.layer);
  if (rate > 0) fail(ctx, `rate ${rate} (random masks are not emitted)`);
  return { output: ctx.inputs[0].name, backward: (dy) => ({ inputs: [dy], weights: [] }) };
}

/** Emitters by tfjs class name (LeanConv2D and FastBatchNormalization register as Conv2D / BatchNormalization). */
export const layerEmitters: Readonly<Record<string, Emitter>> = {
  Conv2D: conv2d,
  BatchNormalization: batchNorm,
  Activation: activationLayer,
  MaxPooling2D: maxPool,
  GlobalAveragePooling2D: globalAveragePool,
  Dense: dense,
  Add: add,
  Dropout: dropout,
  ZeroPadding2D: zeroPadding2d,
  ...transformerEmitters,
};
