import type * as tf from '../tf.ts';

/** A model whose one output is a sigmoid / softmax Activation layer over `logits` (the zoo's `probs` over `logits`). */
export interface LogitsHead {
  logits: tf.SymbolicTensor;
  activation: 'sigmoid' | 'softmax';
}

/**
 * The logits under a model's final sigmoid / softmax, when that activation is a layer of its own; undefined
 * otherwise (a Dense with a built-in activation, any other output): losses then work on the probabilities.
 */
export function logitsHead(model: tf.LayersModel): LogitsHead | undefined {
  if (model.outputs.length !== 1) return undefined;
  const layer = model.outputs[0].sourceLayer;
  if (layer.getClassName() !== 'Activation' || layer.inboundNodes.length !== 1) return undefined;
  const { activation } = layer.getConfig() as { activation?: string };
  if (activation !== 'sigmoid' && activation !== 'softmax') return undefined;
  const [logits] = layer.inboundNodes[0].inputTensors;
  if (!logits || logits.rank !== 2) return undefined;
  return { logits, activation };
}
