import * as tf from '../tf.ts';

export type OptimizerName = 'adam' | 'sgd' | 'rmsprop';

/**
 * The tfjs optimizer of the train stage's `optimizer` / `lr` / `momentum` / `epsilon` params
 * (`ortOptimizerConfig` is its ONNX Runtime twin). `epsilon` undefined: tfjs's backend epsilon (1e-7).
 */
export function makeOptimizer(name: OptimizerName, lr: number, momentum: number, epsilon?: number): tf.Optimizer {
  if (name === 'sgd') return momentum > 0 ? tf.train.momentum(lr, momentum, true) : tf.train.sgd(lr);
  if (name === 'rmsprop') return tf.train.rmsprop(lr, 0.9, momentum, epsilon);
  return tf.train.adam(lr, 0.9, 0.999, epsilon);
}

/** Changes an optimizer's learning rate between epochs (tfjs has no public setter for all of them). */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}

/** The ONNX training graph's settings of the optimizer `makeOptimizer` builds for the same name and momentum. */
export function ortOptimizerConfig(name: OptimizerName, momentum: number, epsilon?: number): { name: OptimizerName; momentum?: number; decay?: number; epsilon?: number } {
  if (name === 'sgd') return { name, momentum };
  const eps = epsilon === undefined ? {} : { epsilon };
  if (name === 'rmsprop') return { name, decay: 0.9, momentum, ...eps };
  return { name, ...eps };
}
