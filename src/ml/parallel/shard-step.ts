import * as tf from '../tf.ts';
import type { LossFn } from '../losses/index.ts';

export interface ShardResult {
  loss: number;
  /** Gradients of the trainable weights, in `model.trainableWeights` order. */
  grads: tf.Tensor[];
}

/** Loss and gradients of one shard of a batch, in training mode (batch-norm moving statistics update). */
export function shardGradients(model: tf.LayersModel, loss: LossFn, x: tf.Tensor4D, y: tf.Tensor2D): ShardResult {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => loss(y, model.apply(x, { training: true }) as tf.Tensor2D), vars);
  const out = { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name]) };
  value.dispose();
  return out;
}

/** The non-trainable weights (batch-norm moving statistics), in `model.weights` order. */
export function stateWeights(model: tf.LayersModel): tf.LayerVariable[] {
  return model.weights.filter((w) => !w.trainable);
}
