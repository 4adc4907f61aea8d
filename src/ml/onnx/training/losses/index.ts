/**
 * The built-in training-graph losses: importing this module registers them; a module adding a loss
 * calls `registerLossEmitter` and is imported here.
 */
import './asymmetric.ts';
import './cross-entropy.ts';
import './cross-entropy-logits.ts';
import './focal.ts';
import './focal-logits.ts';

export { lossEmitterFor, logitsLossEmitterFor, registerLogitsLossEmitter, registerLossEmitter } from './registry.ts';
export type { EmittedLogitsLoss, EmittedLoss, LogitsLossEmitContext, LogitsLossEmitter, LossEmitContext, LossEmitter, TrainLoss } from './registry.ts';
