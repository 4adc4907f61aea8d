import type { OnnxGraphBuilder } from '../../graph-builder.ts';
import type { OnnxAttribute } from '../../onnx-model.ts';
import { samePadding, type ConvConfig } from '../../layer-converters.ts';
import { nchwcNode, reduceSum, reshape } from '../graph-ops.ts';
import { emitActivation } from './activation.ts';
import { registerLayerEmitter } from './registry.ts';
import { layerConfig, NCHW_BATCH_AND_SPACE, staticDims, unsupported, type EmitContext, type Emitted, type LayerVariable } from './types.ts';

/** The static geometry of a 2-D convolution in the graph (NCHW, explicit pads [top, left, bottom, right]). */
export interface ConvGeometry {
  h: number;
  w: number;
  cin: number;
  ho: number;
  wo: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pads: number[];
}

/** Reads and checks a Conv2D / DepthwiseConv2D config: channels-last, undilated, 'same' or 'valid'. */
function convGeometry(ctx: EmitContext): ConvGeometry & { config: ConvConfig } {
  const c = layerConfig<ConvConfig>(ctx.layer);
  if (c.dataFormat !== 'channelsLast') unsupported(ctx, `data format ${c.dataFormat}`);
  const dilations = typeof c.dilationRate === 'number' ? [c.dilationRate, c.dilationRate] : c.dilationRate;
  if (dilations.some((d) => d !== 1)) unsupported(ctx, `dilation ${dilations.join('x')}`);
  if (c.padding !== 'same' && c.padding !== 'valid') unsupported(ctx, `padding '${c.padding}'`);
  const [h, w, cin] = staticDims(ctx, ctx.inputs[0].shape);
  const [ho, wo] = staticDims(ctx, ctx.outputShape);
  const [kh, kw] = c.kernelSize;
  const [sh, sw] = c.strides;
  // TensorFlow's 'same': the odd padding pixel goes to the bottom / right
  const [top, bottom] = c.padding === 'same' ? samePadding(h, kh, sh) : [0, 0];
  const [left, right] = c.padding === 'same' ? samePadding(w, kw, sw) : [0, 0];
  return { config: c, h, w, cin, ho, wo, kh, kw, sh, sw, pads: [top, left, bottom, right] };
}

const convAttributes = (k: ConvGeometry, group = 1) => [
  { name: 'kernel_shape', ints: [k.kh, k.kw] },
  { name: 'strides', ints: [k.sh, k.sw] },
  { name: 'pads', ints: k.pads },
  ...(group > 1 ? [{ name: 'group', int: group }] : []),
];

/**
 * dx of a convolution: for stride 1 a convolution of dy with the kernel flipped (and, for a full conv,
 * its in/out channels swapped), which ORT runs faster than ConvTranspose (small-cnn 64 px, batch 32:
 * 165 ms per step against 225 ms); for strides > 1 ConvTranspose of dy with the forward kernel, whose
 * output_padding restores the rows/columns a strided conv without padding on that side never reached.
 * `group` = channels for a depthwise conv (multiplier 1: the kernel [C, 1, kh, kw] serves both ways).
 */
function convInputGrad(g: OnnxGraphBuilder, dy: string, kernel: string, k: ConvGeometry, cout: number, group: number, base: string, nchwcBlock?: number): string {
  const [top, left, bottom, right] = k.pads;
  if (k.sh === 1 && k.sw === 1) {
    const oriented = group === 1 ? g.node('Transpose', [kernel], `${base}/kernel_io`, [{ name: 'perm', ints: [1, 0, 2, 3] }]) : kernel;
    const flipped = flipKernel(g, oriented, [k.cin, group === 1 ? cout : 1, k.kh, k.kw], base);
    const dxPads = [k.kh - 1 - top, k.kw - 1 - left, k.kh - 1 - bottom, k.kw - 1 - right];
    const attributes: OnnxAttribute[] = [{ name: 'kernel_shape', ints: [k.kh, k.kw] }, { name: 'pads', ints: dxPads }, ...(group > 1 ? [{ name: 'group', int: group }] : [])];
    if (group === 1) return fullConv(g, dy, flipped, undefined, attributes, [cout, k.cin, k.kh, k.kw, k.h * k.w], nchwcBlock, `${base}/dx`);
    return g.node('Conv', [dy, flipped], `${base}/dx`, attributes);
  }
  const outputPadding = [k.h - ((k.ho - 1) * k.sh + k.kh - top - bottom), k.w - ((k.wo - 1) * k.sw + k.kw - left - right)];
  return g.node('ConvTranspose', [dy, kernel], `${base}/dx`, [...convAttributes(k, group), { name: 'output_padding', ints: outputPadding }]);
}

/**
 * The kernel rotated by 180 degrees in (kh, kw): its taps reversed, as a product with the reversing
 * permutation matrix ([O*I, kh*kw] x J; exact: every output is one weight times 1 plus zeros), which
 * ONNX Runtime threads; a Slice with step -1 ran on one thread.
 */
function flipKernel(g: OnnxGraphBuilder, kernel: string, dims: readonly number[], base: string): string {
  const taps = dims[2] * dims[3];
  if (taps === 1) return kernel;
  const reversal = g.memo(`flip_${taps}`, () => g.floats(`flip_${taps}`, [taps, taps], Float32Array.from({ length: taps * taps }, (_, i) => (i % taps === taps - 1 - Math.floor(i / taps) ? 1 : 0))));
  const product = g.node('MatMul', [reshape(g, kernel, [-1, taps], `${base}/kernel_taps`), reversal], `${base}/kernel_reversed`);
  return reshape(g, product, dims, `${base}/kernel_flipped`);
}

/**
 * dW[o,i,ky,kx] = sum over n, y, x of dy[n,o,y,x] * xpad[n,i,y*s+ky,x*s+kx] as ONE matrix product: every
 * tap's input pixels gathered at once (one Gather, which ONNX Runtime threads; none for a 1x1 stride-1
 * conv) from the input laid out [Cin, H * W, N] plus a zero row for the padding, into the im2col matrix
 * [Cin * kh * kw, Ho * Wo * N], against dy laid out [Cout, Ho * Wo * N]. It replaced two formulations
 * with a product per tap: a Pad and kh * kw strided Slices (ORT runs both on one thread), and for
 * stride 1 on wide maps kh Gathers of width-padded rows against kw shifted copies of dy (ResNet-18 128 px,
 * batch 32, 2 threads: 516-546 -> 472-499 ms per step, bench/results/train.md round 10). The larger
 * output dimension goes first (thread-invariant products, graph-ops.ts), so the product is
 * [Cin * kh * kw, Cout], transposed once, unless Cout is the larger.
 */
function convFilterGrad(g: OnnxGraphBuilder, x: string, dy: string, k: ConvGeometry, cout: number, base: string): string {
  const rows = k.cin * k.kh * k.kw; // row i * kh * kw + tap: the kernel's [Cin, kh, kw] order
  const im2col = reshape(g, im2colColumns(g, x, k, base), [rows, -1], `${base}/im2col_mat`);
  const dyMat = reshape(g, channelsFirstBatchLast(g, dy, `${base}/dy`), [cout, -1], `${base}/dy_mat`);
  if (cout >= rows) return reshape(g, g.node('Gemm', [dyMat, im2col], `${base}/dw_mat`, [{ name: 'transB', int: 1 }]), [cout, k.cin, k.kh, k.kw], `${base}/dw`);
  // Reshape before the Transpose: ORT's GemmTransposeFusion folds a Transpose that reads a Gemm directly
  // into it, which would swap the orientation back.
  const product = reshape(g, g.node('Gemm', [im2col, dyMat], `${base}/dw_mat`, [{ name: 'transB', int: 1 }]), [rows, cout], `${base}/dw_io`);
  return reshape(g, g.node('Transpose', [product], `${base}/dw_oi`, [{ name: 'perm', ints: [1, 0] }]), [cout, k.cin, k.kh, k.kw], `${base}/dw`);
}

/**
 * The im2col of x NCHW as [Cin, kh * kw * Ho * Wo, N]: for every channel, tap (ky, kx) and output pixel
 * (y, x), the N input values that tap reads (zeros in the padding), gathered at once from x laid out
 * [Cin, H * W, N] plus a zero row (one Gather on axis 1, blocks of N floats, which ONNX Runtime threads;
 * none for a 1x1 stride-1 conv).
 */
function im2colColumns(g: OnnxGraphBuilder, x: string, k: ConvGeometry, base: string): string {
  const [top, left] = k.pads;
  const pixels = k.h * k.w;
  const xRows = reshape(g, channelsFirstBatchLast(g, x, `${base}/x`), [k.cin, pixels, -1], `${base}/x_pixels`);
  const indices: number[] = []; // (ky, kx, y, x) -> input pixel, or `pixels` (the zero row) in the padding
  for (let ky = 0; ky < k.kh; ky++)
    for (let kx = 0; kx < k.kw; kx++)
      for (let y = 0; y < k.ho; y++)
        for (let xo = 0; xo < k.wo; xo++) {
          const [r, c] = [y * k.sh + ky - top, xo * k.sw + kx - left];
          indices.push(r < 0 || r >= k.h || c < 0 || c >= k.w ? pixels : r * k.w + c);
        }
  if (indices.length === pixels && indices.every((v, i) => v === i)) return xRows;
  const table = indices.includes(pixels) ? g.node('Concat', [xRows, batchZeros(g, x, [k.cin, 1])], `${base}/x_table`, [{ name: 'axis', int: 1 }]) : xRows;
  return g.node('Gather', [table, g.int64s(`${base}/im2col_idx`, indices)], `${base}/im2col`, [{ name: 'axis', int: 1 }]);
}

/** x NCHW as [C, H, W, N], once per value (a block's first conv and its shortcut conv read the same input). */
function channelsFirstBatchLast(g: OnnxGraphBuilder, x: string, base: string): string {
  return g.memo(`chwn/${x}`, () => g.node('Transpose', [x], `${base}_chwn`, [{ name: 'perm', ints: [1, 2, 3, 0] }]));
}

/** Zeros of shape [...before, N], N the batch size of `batchOf` (one per shape and graph). */
function batchZeros(g: OnnxGraphBuilder, batchOf: string, before: readonly number[]): string {
  const key = `zeros/${before.join('x')}/N`;
  return g.memo(key, () => {
    const batch = g.memo('batch_dim', () => g.node('Slice', [g.node('Shape', [batchOf], 'batch_dim/shape'), g.int64s('batch_dim/start', [0]), g.int64s('batch_dim/end', [1])], 'batch_dim'));
    const dims = g.node('Concat', [g.int64s(`${key}/before`, before), batch], `${key}/dims`, [{ name: 'axis', int: 0 }]);
    return g.node('ConstantOfShape', [dims], key);
  });
}

/**
 * dW[c,0,ky,kx] of a depthwise conv (multiplier 1) = sum over n, y, x of dy[n,c,y,x] * xpad[n,c,y*s+ky,x*s+kx]:
 * per channel one product of its im2col [kh * kw, Ho * Wo * N] with its dy [Ho * Wo * N, 1] (a batched
 * MatMul over the channels). It replaced a Pad, a strided Slice per tap (both on one ONNX Runtime thread),
 * a Mul and a ReduceSum per tap (EfficientNet-B0 128 px, batch 32: the Slices were 266 of the 852 ms of
 * a 2-thread step; bench/results/train.md round 11).
 */
function depthwiseFilterGrad(g: OnnxGraphBuilder, x: string, dy: string, k: ConvGeometry, base: string): string {
  const taps = k.kh * k.kw;
  const im2col = reshape(g, im2colColumns(g, x, k, base), [k.cin, taps, -1], `${base}/im2col_mat`);
  const dyCol = reshape(g, channelsFirstBatchLast(g, dy, `${base}/dy`), [k.cin, -1, 1], `${base}/dy_col`);
  return reshape(g, g.node('MatMul', [im2col, dyCol], `${base}/dw_mat`), [k.cin, 1, k.kh, k.kw], `${base}/dw`);
}

/** Maps of at least this many pixels per channel take ONNX Runtime's NCHWc convolution (smaller ones lose to the per-step filter reorder). */
const NCHWC_MIN_PIXELS = 256;

/**
 * A full (group 1) convolution y = conv(x, kernel [O, I, kh, kw]): ONNX Runtime's NCHWc kernel where
 * the channels fit its block and the map is large, else a plain Conv. ORT puts convolutions with
 * constant weights on NCHWc itself (inference); a training graph's weights are inputs, so here the
 * filter is reordered in the graph to the blocked layout [O/B, I/B, kh, kw, B(i), B(o)] and the
 * activations go through ReorderInput / ReorderOutput.
 */
function fullConv(g: OnnxGraphBuilder, x: string, kernel: string, bias: string | undefined, attributes: OnnxAttribute[], [cin, cout, kh, kw, pixels]: number[], block: number | undefined, base: string): string {
  if (!block || cin % block !== 0 || cout % block !== 0 || pixels < NCHWC_MIN_PIXELS) return g.node('Conv', [x, kernel, ...(bias ? [bias] : [])], base, attributes);
  const blocked = reshape(g, kernel, [cout / block, block, cin / block, block, kh, kw], `${base}/w_blocks`);
  const reordered = reshape(g, g.node('Transpose', [blocked], `${base}/w_nchwc6`, [{ name: 'perm', ints: [0, 2, 4, 5, 3, 1] }]), [cout, cin, kh, kw], `${base}/w_nchwc`);
  const xc = nchwcNode(g, 'ReorderInput', [x], `${base}/x_nchwc`);
  const yc = nchwcNode(g, 'Conv', [xc, reordered, ...(bias ? [bias] : [])], `${base}/y_nchwc`, attributes);
  return nchwcNode(g, 'ReorderOutput', [yc], base, [{ name: 'channels', int: cout }]);
}

function conv2d(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const k = convGeometry(ctx);
  const c = k.config;
  const [kernelVar, biasVar] = layer.weights; // trainable or not: ctx.weight gives a frozen one as an input or a constant
  if (!kernelVar || (c.useBias && !biasVar)) unsupported(ctx, 'weights not built');
  const cout = kernelVar.shape[3] as number;
  const kernel = ctx.weight(kernelVar, 'hwio-as-oihw');
  const bias = c.useBias ? ctx.weight(biasVar) : undefined;
  const base = layer.name;
  const z = fullConv(g, ctx.inputs[0].name, kernel, bias, convAttributes(k), [k.cin, cout, k.kh, k.kw, k.ho * k.wo], ctx.nchwcBlock, base);
  const act = emitActivation(ctx, z, c.activation, `${base}/${c.activation}`);
  return {
    output: act.y,
    backward(dy, [wantInput]) {
      const dz = act.grad(dy);
      const weights: [LayerVariable, string][] = [[kernelVar, convFilterGrad(g, ctx.inputs[0].name, dz, k, cout, base)]];
      if (bias) weights.push([biasVar, reduceSum(g, dz, NCHW_BATCH_AND_SPACE, false, `${base}/dbias`)]);
      return { inputs: [wantInput ? convInputGrad(g, dz, kernel, k, cout, 1, base, ctx.nchwcBlock) : undefined], weights };
    },
  };
}

/** DepthwiseConv2D with depth multiplier 1 (the zoo's): ONNX Conv with group = channels. */
function depthwiseConv2d(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const k = convGeometry(ctx);
  const c = k.config;
  const { depthMultiplier } = layerConfig<{ depthMultiplier: number }>(layer);
  if (depthMultiplier !== 1) unsupported(ctx, `depth multiplier ${depthMultiplier}`);
  const [kernelVar, biasVar] = layer.weights; // trainable or not: ctx.weight gives a frozen one as an input or a constant
  if (!kernelVar || (c.useBias && !biasVar)) unsupported(ctx, 'weights not built');
  const kernel = ctx.weight(kernelVar, 'depthwise-as-oihw');
  const bias = c.useBias ? ctx.weight(biasVar) : undefined;
  const base = layer.name;
  const z = g.node('Conv', [ctx.inputs[0].name, kernel, ...(bias ? [bias] : [])], base, convAttributes(k, k.cin));
  const act = emitActivation(ctx, z, c.activation, `${base}/${c.activation}`);
  return {
    output: act.y,
    backward(dy, [wantInput]) {
      const dz = act.grad(dy);
      const weights: [LayerVariable, string][] = [[kernelVar, depthwiseFilterGrad(g, ctx.inputs[0].name, dz, k, base)]];
      if (bias) weights.push([biasVar, reduceSum(g, dz, NCHW_BATCH_AND_SPACE, false, `${base}/dbias`)]);
      return { inputs: [wantInput ? convInputGrad(g, dz, kernel, k, k.cin, k.cin, base) : undefined], weights };
    },
  };
}

registerLayerEmitter('Conv2D', conv2d);
registerLayerEmitter('DepthwiseConv2D', depthwiseConv2d);
