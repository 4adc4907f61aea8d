import type { OnnxGraphBuilder } from '../../graph-builder.ts';

/**
 * A training loss as the graph emits it: `kind` names a registered emitter, `options` its parameters,
 * `classWeights` ([K]) scales each class's terms (class-balanced losses).
 */
export interface TrainLoss {
  kind: string;
  options?: Readonly<Record<string, number | boolean>>;
  classWeights?: readonly number[];
}

export interface LossEmitContext {
  g: OnnxGraphBuilder;
  /** The model's probabilities [N, K] (after its sigmoid / softmax) and the targets [N, K]. */
  p: string;
  y: string;
  /** K, the classes (outputs) per sample. */
  classes: number;
  loss: TrainLoss;
}

/** The scalar loss and its gradient with respect to p. */
export interface EmittedLoss {
  loss: string;
  dp: string;
}

export type LossEmitter = (ctx: LossEmitContext) => EmittedLoss;

/**
 * The one registry of training-graph loss emitters, by kind. A loss trains on ONNX Runtime once a
 * module registers its emitter and `losses/index.ts` imports that module (`trainLossOf` maps the train
 * stage's loss param to a kind).
 */
const emitters = new Map<string, LossEmitter>();

export function registerLossEmitter(kind: string, emitter: LossEmitter): void {
  if (emitters.has(kind)) throw new Error(`a training-graph loss emitter ${kind} is already registered`);
  emitters.set(kind, emitter);
}

export function lossEmitterFor(kind: string): LossEmitter | undefined {
  return emitters.get(kind);
}

/** The inputs of a loss computed from the logits `z` [N, K] under the model's final sigmoid / softmax. */
export type LogitsLossEmitContext = Omit<LossEmitContext, 'p'> & { z: string };

/** The scalar loss and its gradient with respect to the logits (the final activation's backward skipped). */
export interface EmittedLogitsLoss {
  loss: string;
  dz: string;
}

export type LogitsLossEmitter = (ctx: LogitsLossEmitContext) => EmittedLogitsLoss;

/**
 * Losses that also have a form on the logits under a final activation (losses.ts `LossFn.logits`), which may
 * depend on the loss's options (focal: softmax form under a softmax): train-graph.ts uses it when the model
 * ends in that activation, as the tfjs loop does (training/objective.ts).
 */
type Activation = 'sigmoid' | 'softmax';
const logitsEmitters = new Map<string, { activation: (loss: TrainLoss) => Activation; emit: LogitsLossEmitter }>();

export function registerLogitsLossEmitter(kind: string, activation: Activation | ((loss: TrainLoss) => Activation), emit: LogitsLossEmitter): void {
  if (logitsEmitters.has(kind)) throw new Error(`a training-graph logits loss emitter ${kind} is already registered`);
  logitsEmitters.set(kind, { activation: typeof activation === 'function' ? activation : () => activation, emit });
}

/** The emitter of `loss` from the logits under `activation`, if it has one there. */
export function logitsLossEmitterFor(loss: TrainLoss, activation: Activation): LogitsLossEmitter | undefined {
  const entry = logitsEmitters.get(loss.kind);
  return entry?.activation(loss) === activation ? entry.emit : undefined;
}
