/** The built-in training-graph optimizers: importing this module registers them. */
import './adam.ts';
import './rmsprop.ts';
import './sgd.ts';

export { optimizerFactoryFor, registerOptimizer } from './registry.ts';
export type { OptimizerConfig, OptimizerFactory, OptimizerGraph, OptimizerStep, WeightUpdate } from './registry.ts';
