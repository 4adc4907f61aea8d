import type { OnnxGraphBuilder } from './graph-builder.ts';

/** Nearest upsampling of an NCHW value by whole factors (tfjs UpSampling2D), shared by the inference and training graphs. */
export function emitNearestUpsampling(g: OnnxGraphBuilder, x: string, size: readonly number[], name: string): string {
  return g.node('Resize', [x, '', g.floats(`${name}/scales`, [4], Float32Array.of(1, 1, size[0], size[1]))], name, [
    { name: 'mode', string: 'nearest' },
    { name: 'coordinate_transformation_mode', string: 'asymmetric' },
    { name: 'nearest_mode', string: 'floor' },
  ]);
}
