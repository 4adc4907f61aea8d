import { UnsupportedLayerError } from '../errors.ts';
import { onnxAxis } from '../layer-converters.ts';
import type { EmitContext, Emitted } from './layer-emitters.ts';
import { multiOutputNode, reduceSum, reshape } from './graph-ops.ts';

/**
 * Training emitters (forward + backward) of the layers that move values between shapes, as the detector
 * uses them: UpSampling2D (nearest), Reshape of an NHWC map to [N, H*W, C], Concatenate. Rank-4 values
 * are NCHW in the graph, other ranks as in tfjs.
 */

const fail = (ctx: EmitContext, reason: string): never => {
  throw new UnsupportedLayerError(ctx.layer.name, ctx.layer.getClassName(), reason);
};
const known = (ctx: EmitContext, shape: ReadonlyArray<number | null>): number[] => {
  if (shape.slice(1).some((d) => d === null)) fail(ctx, `unknown dimensions in [${shape.join(', ')}]`);
  return shape.slice(1) as number[];
};

/** Nearest upsampling by whole factors; its gradient sums each output block back onto its source pixel. */
function upSampling2d(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const c = layer.getConfig() as unknown as { size: number[]; interpolation?: string; dataFormat: string };
  if ((c.interpolation ?? 'nearest') !== 'nearest' || c.dataFormat !== 'channelsLast') fail(ctx, `${c.interpolation} interpolation, ${c.dataFormat}`);
  const [h, w, channels] = known(ctx, ctx.inputs[0].shape);
  const [sh, sw] = c.size;
  const base = layer.name;
  const y = g.node('Resize', [ctx.inputs[0].name, '', g.floats(`${base}/scales`, [4], Float32Array.of(1, 1, sh, sw))], base, [
    { name: 'mode', string: 'nearest' },
    { name: 'coordinate_transformation_mode', string: 'asymmetric' },
    { name: 'nearest_mode', string: 'floor' },
  ]);
  return {
    output: y,
    backward(dy, [want]) {
      if (!want) return { inputs: [undefined], weights: [] };
      const blocks = reshape(g, dy, [0, channels, h, sh, w, sw], `${base}/dy_blocks`);
      return { inputs: [reduceSum(g, blocks, [3, 5], false, `${base}/dx`)], weights: [] };
    },
  };
}

/** An NHWC map [N, H, W, C] to [N, H*W, C] (tfjs row-major order), or any reshape between ranks 2 and 3. */
function reshapeLayer(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const x = ctx.inputs[0];
  const inShape = known(ctx, x.shape);
  const target = (layer.getConfig() as unknown as { targetShape: number[] }).targetShape;
  if (target.length === 3 || target.some((d) => d < 0)) fail(ctx, `target shape [${target.join(', ')}]`);
  const base = layer.name;
  const nhwc = x.shape.length === 4 ? g.node('Transpose', [x.name], `${base}/nhwc`, [{ name: 'perm', ints: [0, 2, 3, 1] }]) : x.name;
  const y = reshape(g, nhwc, [0, ...target], base);
  return {
    output: y,
    backward(dy, [want]) {
      if (!want) return { inputs: [undefined], weights: [] };
      const back = reshape(g, dy, [0, ...inShape], `${base}/dx_nhwc`);
      return { inputs: [x.shape.length === 4 ? g.node('Transpose', [back], `${base}/dx`, [{ name: 'perm', ints: [0, 3, 1, 2] }]) : back], weights: [] };
    },
  };
}

/** Concat along one axis; the gradient splits dy at the inputs' sizes. */
function concatenate(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const rank = ctx.inputs[0].shape.length;
  if (ctx.inputs.some((v) => v.shape.length !== rank)) fail(ctx, 'inputs of different ranks');
  const tfAxis = (layer.getConfig() as unknown as { axis: number }).axis;
  const axis = onnxAxis(tfAxis, rank);
  const sizes = ctx.inputs.map((v) => known(ctx, v.shape)[(tfAxis < 0 ? tfAxis + rank : tfAxis) - 1]);
  const base = layer.name;
  const y = g.node('Concat', ctx.inputs.map((v) => v.name), base, [{ name: 'axis', int: axis }]);
  return {
    output: y,
    backward(dy, want) {
      const parts = multiOutputNode(g, 'Split', [dy, g.int64s(`${base}/split`, sizes)], sizes.map((_, i) => `${base}/dx${i}`), [{ name: 'axis', int: axis }]);
      return { inputs: parts.map((p, i) => (want[i] ? p : undefined)), weights: [] };
    },
  };
}

export const shapeEmitters: Readonly<Record<string, (ctx: EmitContext) => Emitted>> = {
  UpSampling2D: upSampling2d,
  Reshape: reshapeLayer,
  Concatenate: concatenate,
};
