import * as tf from '../tf.ts';

export type OptimizerName = 'adam' | 'sgd' | 'rmsprop';

export function makeOptimizer(name: OptimizerName, lr: number, momentum: number): tf.Optimizer {
  if (name === 'sgd') return momentum > 0 ? tf.train.momentum(lr, momentum, true) : tf.train.sgd(lr);
  if (name === 'rmsprop') return tf.train.rmsprop(lr, 0.9, momentum);
  return tf.train.adam(lr);
}

/** Changes an optimizer's learning rate between epochs (tfjs has no public setter for all of them). */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}
