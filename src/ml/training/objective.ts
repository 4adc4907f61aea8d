import * as tf from '../tf.ts';
import type { LogitsLoss, LossFn } from '../losses/index.ts';
import { logitsHead } from '../models/logits-head.ts';

/** Per model, a view of it whose output is the logits (sharing its layers and weights), built once. */
const logitsViews = new WeakMap<tf.LayersModel, tf.LayersModel>();

/** A model's logits view and the loss on them, when the loss has a logits form for the model's final activation. */
export interface LogitsSide extends LogitsLoss {
  view: tf.LayersModel;
}

/**
 * The logits side of `model` under `loss`: when the model ends in a sigmoid / softmax layer and the loss has
 * a form for that activation (BCE, focal, ASL under a sigmoid; CE, softmax focal under a softmax; losses.ts),
 * else undefined (the loss then works on the probabilities). The ONNX training graph makes the same choice
 * (train-graph.ts).
 */
export function logitsSide(model: tf.LayersModel, loss: LossFn): LogitsSide | undefined {
  const head = logitsHead(model);
  if (!head || !loss.logits || loss.logits.activation !== head.activation) return undefined;
  let view = logitsViews.get(model);
  if (!view) logitsViews.set(model, (view = tf.model({ name: `${model.name}_logits`, inputs: model.inputs, outputs: head.logits })));
  return { view, ...loss.logits };
}

/** The training loss of a batch in training mode: from the logits where `logitsSide` gives them, else from the probabilities. */
export function trainingObjective(model: tf.LayersModel, loss: LossFn): (x: tf.Tensor4D, y: tf.Tensor2D) => tf.Scalar {
  const side = logitsSide(model, loss);
  if (!side) return (x, y) => loss(y, model.apply(x, { training: true }) as tf.Tensor2D);
  return (x, y) => side.loss(y, side.view.apply(x, { training: true }) as tf.Tensor2D);
}
