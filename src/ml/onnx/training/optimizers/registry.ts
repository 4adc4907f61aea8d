import type { OnnxGraphBuilder } from '../../graph-builder.ts';

/** The train stage's optimizer settings the graph needs (tfjs's defaults where not given). */
export interface OptimizerConfig {
  name: string;
  /** sgd: momentum (Nesterov when > 0); rmsprop: momentum. */
  momentum?: number;
  beta1?: number;
  beta2?: number;
  /** rmsprop's decay of the mean square. */
  decay?: number;
  /** Default: tfjs's backend epsilon (1e-7 on the float32 backends). */
  epsilon?: number;
}

/** One weight's optimizer update in the graph: the new weight and the new values of its state slots. */
export interface WeightUpdate {
  value: string;
  slots: string[];
}

export interface OptimizerStep {
  update(weight: string, slots: readonly string[], grad: string, base: string): WeightUpdate;
  /** The next values of the optimizer's scalar state, in `scalars` order. */
  nextScalars(): string[];
}

/**
 * An optimizer as graph ops, written to match tfjs's optimizer of the same name op for op, with its
 * state laid out as tfjs's `getWeights()`: the iteration count, then one group per slot suffix, each
 * holding every weight's `<variable>/<suffix>` tensor in trainable-weight order.
 */
export interface OptimizerGraph {
  /** State tensors per weight, as tfjs names their suffixes (Adam: m, v; momentum: momentum; RMSProp: rms, momentum). */
  slots: readonly string[];
  /**
   * Scalar state carried from step to step (Adam's accumulated beta powers): its value before step
   * `iterations + 1` as tfjs's `setWeights` computes it. The trainer checkpoints the exact value too.
   */
  scalars: readonly { key: string; before(iterations: number): number }[];
  /** Writes the update ops; `lr` and the scalars are graph inputs. */
  emit(g: OnnxGraphBuilder, lr: string, scalars: readonly string[]): OptimizerStep;
}

export type OptimizerFactory = (config: OptimizerConfig, backendEpsilon: number) => OptimizerGraph;

const factories = new Map<string, OptimizerFactory>();

/** The one registry of training-graph optimizers, by the train stage's optimizer name. */
export function registerOptimizer(name: string, factory: OptimizerFactory): void {
  if (factories.has(name)) throw new Error(`a training-graph optimizer ${name} is already registered`);
  factories.set(name, factory);
}

export function optimizerFactoryFor(name: string): OptimizerFactory | undefined {
  return factories.get(name);
}
