import type * as tf from '../../../tf.ts';
import { UnsupportedLayerError } from '../../errors.ts';
import type { OnnxGraphBuilder } from '../../graph-builder.ts';

/**
 * The contract of a layer emitter: given a tfjs layer call, write its forward nodes (training mode,
 * NCHW for rank-4 values) and return a `backward` that, given the name of the output's gradient, writes
 * the nodes of the gradients of its inputs (those asked for) and of its trainable weights.
 */

export type LayerVariable = tf.LayerVariable;

/**
 * How a weight is stored in the graph: as in tfjs, a conv kernel HWIO -> OIHW, or a depthwise kernel
 * [kh, kw, C, multiplier] -> [C * multiplier, 1, kh, kw] (output channel c * multiplier + m).
 */
export type WeightLayout = 'same' | 'hwio-as-oihw' | 'depthwise-as-oihw';

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
  /** The graph value holding a weight (stored in `layout`): a view of the parameters when trained, else a frozen input or a constant. */
  weight(v: LayerVariable, layout?: WeightLayout): string;
  /** The graph value holding a non-trainable state tensor (BN moving statistics) and where its next value is set. */
  state(v: LayerVariable): string;
  setNextState(v: LayerVariable, next: string): void;
  /** ONNX Runtime's NCHWc channel block on this CPU (16 with AVX-512, 8 with AVX2), when its NCHWc kernels may be used. */
  nchwcBlock?: number;
  /** false: the layer runs in inference mode (batch norms on their moving statistics). */
  training: boolean;
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

export type LayerEmitter = (ctx: EmitContext) => Emitted;

/** Refuses the layer (the caller falls back to tfjs, naming the layer and the reason). */
export const unsupported = (ctx: EmitContext, reason?: string): never => {
  throw new UnsupportedLayerError(ctx.layer.name, ctx.layer.getClassName(), reason);
};

export const layerConfig = <T>(layer: tf.layers.Layer) => layer.getConfig() as unknown as T;

/** The static dimensions after the batch of a tfjs shape (refused when one is unknown). */
export const staticDims = (ctx: EmitContext, shape: ReadonlyArray<number | null>): number[] => {
  if (shape.slice(1).some((d) => d === null)) unsupported(ctx, `unknown dimensions in [${shape.join(', ')}]`);
  return shape.slice(1) as number[];
};

/** The NCHW axes reduced for per-channel statistics and bias gradients. */
export const NCHW_BATCH_AND_SPACE = [0, 2, 3];
