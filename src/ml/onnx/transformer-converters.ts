import type * as tf from '../tf.ts';
import { UnsupportedLayerError } from './errors.ts';
import type { ConversionContext } from './layer-converters.ts';
import { transformerEmitters } from './training/layers/transformer.ts';

/**
 * Inference converters of the transformer layers (ViT and Swin blocks, tokens, LayerNorm, patch
 * merging): the forward half of their training emitters, with the weights as initializers. One
 * definition of the maths for both graphs; the training-only backward records are never written.
 */
function fromEmitter(className: string) {
  const emit = transformerEmitters[className];
  return async (ctx: ConversionContext): Promise<string> => {
    const { g, layer } = ctx;
    const values = new Map<tf.LayerVariable, string>();
    for (const v of layer.weights) values.set(v, g.floats(`${layer.name}/${v.originalName}`, v.shape as number[], (await v.read().data()) as Float32Array));
    const noState = (): never => {
      throw new UnsupportedLayerError(layer.name, className, 'state tensors');
    };
    return emit({ g, layer, inputs: ctx.inputs, outputShape: [], weight: (v) => values.get(v)!, state: noState, setNextState: noState, training: false }).output;
  };
}

export const transformerConverters: Readonly<Record<string, (ctx: ConversionContext) => Promise<string>>> = Object.fromEntries(
  Object.keys(transformerEmitters).map((className) => [className, fromEmitter(className)]),
);
