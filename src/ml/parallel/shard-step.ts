import * as tf from '../tf.ts';
import type { LossFn } from '../losses/index.ts';
import { trainingObjective } from '../training/objective.ts';

export interface ShardResult {
  loss: number;
  /** Gradients of the trainable weights, in `model.trainableWeights` order. */
  grads: tf.Tensor[];
}

/** Loss (from the logits where it can: training/objective.ts) and gradients of one shard of a batch, in training mode (batch-norm moving statistics update). */
export function shardGradients(model: tf.LayersModel, loss: LossFn, x: tf.Tensor4D, y: tf.Tensor2D): ShardResult {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => trainingObjective(model, loss)(x, y), vars);
  const out = { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name]) };
  value.dispose();
  return out;
}

/** The non-trainable weights (batch-norm moving statistics), in `model.weights` order. */
export function stateWeights(model: tf.LayersModel): tf.LayerVariable[] {
  return model.weights.filter((w) => !w.trainable);
}
