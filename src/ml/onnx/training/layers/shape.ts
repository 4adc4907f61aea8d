import { emitNearestUpsampling } from '../../upsampling.ts';
import { reduceSum, reshape } from '../graph-ops.ts';
import { registerLayerEmitter } from './registry.ts';
import { staticDims, unsupported, type EmitContext, type Emitted } from './types.ts';

/**
 * Training emitters (forward + backward) of the layers that move values between shapes, as the detector
 * uses them: UpSampling2D (nearest), Reshape of an NHWC map to [N, H*W, C], Flatten (Concatenate: merge.ts).
 * Rank-4 values are NCHW in the graph, other ranks as in tfjs.
 */

const fail = unsupported;
const known = staticDims;

/** Nearest upsampling by whole factors; its gradient sums each output block back onto its source pixel. */
function upSampling2d(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const c = layer.getConfig() as unknown as { size: number[]; interpolation?: string; dataFormat: string };
  if ((c.interpolation ?? 'nearest') !== 'nearest' || c.dataFormat !== 'channelsLast') fail(ctx, `${c.interpolation} interpolation, ${c.dataFormat}`);
  const [h, w, channels] = known(ctx, ctx.inputs[0].shape);
  const [sh, sw] = c.size;
  const base = layer.name;
  const y = emitNearestUpsampling(g, ctx.inputs[0].name, [sh, sw], base);
  return {
    output: y,
    backward(dy, [want]) {
      if (!want) return { inputs: [undefined], weights: [] };
      const blocks = reshape(g, dy, [0, channels, h, sh, w, sw], `${base}/dy_blocks`);
      return { inputs: [reduceSum(g, blocks, [3, 5], false, `${base}/dx`)], weights: [] };
    },
  };
}

/** An NHWC map [N, H, W, C] to [N, H*W, C] or [N, H*W*C] (tfjs row-major order), or any reshape between ranks 2 and 3. */
function reshapeLayer(ctx: EmitContext): Emitted {
  const target = (ctx.layer.getConfig() as unknown as { targetShape: number[] }).targetShape;
  if (target.length === 3 || target.some((d) => d < 0)) fail(ctx, `target shape [${target.join(', ')}]`);
  return reshapeTo(ctx, target);
}

/** Flatten: the NHWC map (or any value) to [N, product of the rest], in tfjs's row-major order. */
function flatten(ctx: EmitContext): Emitted {
  return reshapeTo(ctx, [known(ctx, ctx.inputs[0].shape).reduce((a, b) => a * b, 1)]);
}

function reshapeTo(ctx: EmitContext, target: readonly number[]): Emitted {
  const { g, layer } = ctx;
  const x = ctx.inputs[0];
  const inShape = known(ctx, x.shape);
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

registerLayerEmitter('UpSampling2D', upSampling2d);
registerLayerEmitter('Reshape', reshapeLayer);
registerLayerEmitter('Flatten', flatten);
