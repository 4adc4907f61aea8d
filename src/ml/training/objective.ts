import * as tf from '../tf.ts';
import type { LossFn } from '../losses/index.ts';
import { logitsHead } from '../models/logits-head.ts';

/** Per model, a view of it whose output is the logits (sharing its layers and weights), built once. */
const logitsViews = new WeakMap<tf.LayersModel, tf.LayersModel>();

/**
 * The training loss of a batch in training mode: from the logits when the loss has a logits form for the
 * model's final activation (BCE under a sigmoid, CE under a softmax; losses.ts), else from the probabilities.
 * The ONNX training graph makes the same choice (train-graph.ts).
 */
export function trainingObjective(model: tf.LayersModel, loss: LossFn): (x: tf.Tensor4D, y: tf.Tensor2D) => tf.Scalar {
  const head = logitsHead(model);
  if (!head || loss.logits?.activation !== head.activation) return (x, y) => loss(y, model.apply(x, { training: true }) as tf.Tensor2D);
  let view = logitsViews.get(model);
  if (!view) logitsViews.set(model, (view = tf.model({ name: `${model.name}_logits`, inputs: model.inputs, outputs: head.logits })));
  const fromLogits = loss.logits.loss;
  return (x, y) => fromLogits(y, view.apply(x, { training: true }) as tf.Tensor2D);
}
