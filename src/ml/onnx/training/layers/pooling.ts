import { samePadding } from '../../layer-converters.ts';
import { multiOutputNode, reduceMean, reshape, scalar } from '../graph-ops.ts';
import { registerLayerEmitter } from './registry.ts';
import { layerConfig, staticDims, unsupported, type EmitContext, type Emitted } from './types.ts';

interface PoolConfig {
  poolSize: number[];
  strides: number[] | null;
  padding: 'same' | 'valid';
  dataFormat: string;
}

interface PoolGeometry {
  h: number;
  w: number;
  c: number;
  ho: number;
  wo: number;
  kernel: number[];
  strides: number[];
  /** [top, left, bottom, right] */
  pads: number[];
}

function poolGeometry(ctx: EmitContext): PoolGeometry {
  const c = layerConfig<PoolConfig>(ctx.layer);
  if (c.dataFormat !== 'channelsLast') unsupported(ctx, `data format ${c.dataFormat}`);
  if (c.padding !== 'same' && c.padding !== 'valid') unsupported(ctx, `padding '${c.padding}'`);
  const strides = c.strides ?? c.poolSize;
  const [h, w, channels] = staticDims(ctx, ctx.inputs[0].shape);
  const [ho, wo] = staticDims(ctx, ctx.outputShape);
  const [top, bottom] = c.padding === 'same' ? samePadding(h, c.poolSize[0], strides[0]) : [0, 0];
  const [left, right] = c.padding === 'same' ? samePadding(w, c.poolSize[1], strides[1]) : [0, 0];
  return { h, w, c: channels, ho, wo, kernel: c.poolSize, strides, pads: [top, left, bottom, right] };
}

const poolAttributes = (p: PoolGeometry) => [
  { name: 'kernel_shape', ints: p.kernel },
  { name: 'strides', ints: p.strides },
  { name: 'pads', ints: p.pads },
];

/**
 * Max pooling; the gradient goes to the position MaxPool's Indices output names (the first maximum of
 * the window in row-major order, as tfjs's cpu backend picks), summed where windows overlap.
 */
function maxPool(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const p = poolGeometry(ctx);
  const base = layer.name;
  const x = ctx.inputs[0].name;
  const [y, indices] = multiOutputNode(g, 'MaxPool', [x], [base, `${base}/indices`], poolAttributes(p));
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

/**
 * Average pooling as TensorFlow: a 'same' window at the border averages only its real pixels. The
 * gradient spreads dy / (pixels of the window) over the window (a grouped ConvTranspose with a kernel
 * of ones), which is the derivative of that forward; tfjs's own AvgPoolGrad divides border windows by
 * the full window area instead (it differs from finite differences there; equal elsewhere).
 */
function averagePool(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const p = poolGeometry(ctx);
  const base = layer.name;
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.strides;
  const [top, left, bottom, right] = p.pads;
  const y = g.node('AveragePool', [ctx.inputs[0].name], base, [...poolAttributes(p), { name: 'count_include_pad', int: 0 }]);
  return {
    output: y,
    backward(dy, [wantInput]) {
      if (!wantInput) return { inputs: [undefined], weights: [] };
      const inverseCounts = new Float32Array(p.ho * p.wo);
      const real = (start: number, size: number, k: number) => Math.min(start + k, size) - Math.max(start, 0);
      for (let i = 0; i < p.ho; i++) for (let j = 0; j < p.wo; j++) inverseCounts[i * p.wo + j] = 1 / (real(i * sh - top, p.h, kh) * real(j * sw - left, p.w, kw));
      const scaled = g.node('Mul', [dy, g.floats(`${base}/inv_counts`, [1, 1, p.ho, p.wo], inverseCounts)], `${base}/dy_scaled`);
      const ones = g.floats(`${base}/ones`, [p.c, 1, kh, kw], new Float32Array(p.c * kh * kw).fill(1));
      const outputPadding = [p.h - ((p.ho - 1) * sh + kh - top - bottom), p.w - ((p.wo - 1) * sw + kw - left - right)];
      const dx = g.node('ConvTranspose', [scaled, ones], `${base}/dx`, [
        { name: 'kernel_shape', ints: [kh, kw] },
        { name: 'strides', ints: [sh, sw] },
        { name: 'pads', ints: p.pads },
        { name: 'group', int: p.c },
        { name: 'output_padding', ints: outputPadding },
      ]);
      return { inputs: [dx], weights: [] };
    },
  };
}

function globalAveragePool(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const c = layerConfig<{ dataFormat: string; keepDims?: boolean }>(layer);
  if (c.dataFormat !== 'channelsLast' || c.keepDims) unsupported(ctx, `data format ${c.dataFormat}${c.keepDims ? ', keepDims' : ''}`);
  const [h, w] = staticDims(ctx, ctx.inputs[0].shape);
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

registerLayerEmitter('MaxPooling2D', maxPool);
registerLayerEmitter('AveragePooling2D', averagePool);
registerLayerEmitter('GlobalAveragePooling2D', globalAveragePool);
