import type { Task } from '../models/index.ts';
import { asymmetricLoss, binaryCrossEntropy, crossEntropy, focalLoss, type LossFn } from './losses.ts';

export * from './losses.ts';
export * from './class-weights.ts';

/** A loss as written in the train stage's params: a name or `{ focal: {...} }` / `{ asl: {...} }`. */
export type LossConfig =
  | 'bce'
  | 'ce'
  | 'focal'
  | 'asl'
  | { focal: { alpha?: number; gamma?: number } }
  | { asl: { gamma_neg?: number; gamma_pos?: number; clip?: number } };

/** The loss function for a config and task (`focal` uses its softmax form for multi-class). */
export function makeLoss(config: LossConfig, task: Task, classWeights?: readonly number[]): LossFn {
  if (config === 'bce') return binaryCrossEntropy(classWeights);
  if (config === 'ce') return crossEntropy(classWeights);
  if (config === 'focal') return focalLoss({ softmax: task === 'multiclass' }, classWeights);
  if (config === 'asl') return asymmetricLoss({}, classWeights);
  if ('focal' in config) return focalLoss({ ...config.focal, softmax: task === 'multiclass' }, classWeights);
  return asymmetricLoss(config.asl, classWeights);
}

/** The loss used when the params do not name one: CE for multi-class, BCE otherwise. */
export function defaultLoss(task: Task): LossConfig {
  return task === 'multiclass' ? 'ce' : 'bce';
}
