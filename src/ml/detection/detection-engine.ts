import type * as tf from '../tf.ts';
import type { OptimizerName } from '../training/optimizer.ts';
import type { ExternalTrainer, TrainEngine } from '../training/train-engine.ts';
import type { AnchorPoints } from './assign.ts';
import type { DetectionLossOptions } from './loss.ts';

export interface DetectionTrainerOptions {
  engine: TrainEngine;
  optimizer: OptimizerName;
  loss: DetectionLossOptions;
  points: AnchorPoints;
  classes: number;
  threads?: number;
  log(message: string): void;
}

/** The external (ONNX Runtime) trainer of a detector, or undefined for tfjs. */
export async function createDetectionTrainer(_model: tf.LayersModel, options: DetectionTrainerOptions): Promise<ExternalTrainer | undefined> {
  if (options.engine === 'onnxruntime') throw new Error('training engine onnxruntime: the detection training graph is not available yet');
  if (options.engine === 'auto') options.log('training engine: tfjs (the detection training graph is not available yet)');
  return undefined;
}
