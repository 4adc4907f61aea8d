import type * as tf from '../tf.ts';
import { UnsupportedLayerError } from './errors.ts';
import type { ConversionContext } from './layer-converters.ts';

/**
 * Converters of the layers that move values between shapes, as detection models use them: UpSampling2D
 * (nearest) and Reshape. Rank-4 values are NCHW in the graph (NHWC in tfjs), other ranks as in tfjs.
 */

const config = <T>(layer: tf.layers.Layer) => layer.getConfig() as unknown as T;

/** Nearest-neighbour upsampling by whole factors: Resize with asymmetric coordinates and floor rounding replicates each pixel, as tfjs does. */
function upSampling2d(ctx: ConversionContext): string {
  const c = config<{ size: number[]; interpolation?: string; dataFormat: string }>(ctx.layer);
  if ((c.interpolation ?? 'nearest') !== 'nearest' || c.dataFormat !== 'channelsLast') throw new UnsupportedLayerError(ctx.layer.name, 'UpSampling2D', `${c.interpolation} interpolation, ${c.dataFormat}`);
  const { g, layer } = ctx;
  const scales = g.floats(`${layer.name}/scales`, [4], Float32Array.of(1, 1, c.size[0], c.size[1]));
  return g.node('Resize', [ctx.inputs[0].name, '', scales], layer.name, [
    { name: 'mode', string: 'nearest' },
    { name: 'coordinate_transformation_mode', string: 'asymmetric' },
    { name: 'nearest_mode', string: 'floor' },
  ]);
}

/** tfjs reshapes NHWC in row-major order: back to NHWC first for a rank-4 input, to NCHW after for a rank-4 output. */
function reshape(ctx: ConversionContext): string {
  const { g, layer } = ctx;
  const x = ctx.inputs[0];
  const target = config<{ targetShape: number[] }>(layer).targetShape;
  const source = x.shape.length === 4 ? g.node('Transpose', [x.name], `${layer.name}/nhwc`, [{ name: 'perm', ints: [0, 2, 3, 1] }]) : x.name;
  const y = g.node('Reshape', [source, g.int64s(`${layer.name}/shape`, [0, ...target])], target.length === 3 ? `${layer.name}/nhwc_out` : layer.name);
  return target.length === 3 ? g.node('Transpose', [y], layer.name, [{ name: 'perm', ints: [0, 3, 1, 2] }]) : y;
}

export const shapeConverters: Readonly<Record<string, (ctx: ConversionContext) => string>> = {
  UpSampling2D: upSampling2d,
  Reshape: reshape,
};
