/**
 * The built-in training-graph losses: importing this module registers them; a module adding a loss
 * calls `registerLossEmitter` and is imported here.
 */
import './asymmetric.ts';
import './cross-entropy.ts';
import './focal.ts';

export { lossEmitterFor, registerLossEmitter } from './registry.ts';
export type { EmittedLoss, LossEmitContext, LossEmitter, TrainLoss } from './registry.ts';
