import type * as tf from '../tf.ts';
import type { OnnxGraphBuilder } from './graph-builder.ts';
import { UnsupportedLayerError } from './errors.ts';

/** A ZeroPadding2D layer's padding as ONNX Pad's `pads` of an NCHW tensor ([0,0,top,left, 0,0,bottom,right]). */
export function zeroPaddingPads(layer: tf.layers.Layer): number[] {
  const c = layer.getConfig() as { padding: [[number, number], [number, number]] | number; dataFormat: string };
  if (c.dataFormat !== 'channelsLast') throw new UnsupportedLayerError(layer.name, layer.getClassName(), `data format ${c.dataFormat}`);
  const [[top, bottom], [left, right]] = typeof c.padding === 'number' ? [[c.padding, c.padding], [c.padding, c.padding]] : c.padding;
  return [0, 0, top, left, 0, 0, bottom, right];
}

/** ZeroPadding2D as one Pad node (constant mode, value 0). */
export function emitZeroPadding(g: OnnxGraphBuilder, layer: tf.layers.Layer, x: string): string {
  return g.node('Pad', [x, g.int64s(`${layer.name}/pads`, zeroPaddingPads(layer))], layer.name);
}
