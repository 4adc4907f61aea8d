import type * as tf from '../tf.ts';
import type { OnnxGraphBuilder } from './graph-builder.ts';
import { UnsupportedLayerError } from './errors.ts';

/** An InputNormalization layer's per-channel mean and std as [1, C, 1, 1] constants of an NCHW graph (or [1, C] for a rank-2 input). */
function normalizationConstants(g: OnnxGraphBuilder, layer: tf.layers.Layer, rank: number): { mean: string; std: string } {
  const { mean, std } = layer.getConfig() as unknown as { mean: number[]; std: number[] };
  if (rank !== 4 && rank !== 2) throw new UnsupportedLayerError(layer.name, layer.getClassName(), `input of rank ${rank}`);
  const dims = rank === 4 ? [1, mean.length, 1, 1] : [1, mean.length];
  return { mean: g.floats(`${layer.name}/mean`, dims, Float32Array.from(mean)), std: g.floats(`${layer.name}/std`, dims, Float32Array.from(std)) };
}

/** (x - mean) / std as Sub and Div, the same float32 operations as the tfjs layer; also the std constant (the training gradient divides by it). */
export function emitInputNormalization(g: OnnxGraphBuilder, layer: tf.layers.Layer, x: { name: string; shape: ReadonlyArray<number | null> }): { output: string; std: string } {
  const { mean, std } = normalizationConstants(g, layer, x.shape.length);
  return { output: g.node('Div', [g.node('Sub', [x.name, mean], `${layer.name}/centred`), std], layer.name), std };
}
