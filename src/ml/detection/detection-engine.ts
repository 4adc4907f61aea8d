import type * as tf from '../tf.ts';
import { emitDetectionLoss } from '../onnx/training/detection-loss-graph.ts';
import { OrtTrainer, type OrtTrainerOptions } from '../onnx/training/ort-trainer.ts';
import type { CustomTrainLoss } from '../onnx/training/train-graph.ts';
import { ortOptimizerConfig, type OptimizerName } from '../training/optimizer.ts';
import { onnxRuntimeTrainer, type ExternalTrainer, type TrainEngine } from '../training/train-engine.ts';
import { targetChannels, type AnchorPoints } from './assign.ts';
import type { DetectionLossOptions } from './loss.ts';

export interface DetectionTrainerOptions {
  engine: TrainEngine;
  optimizer: OptimizerName;
  /** Momentum of sgd (Nesterov) / rmsprop, as `makeOptimizer`. */
  momentum: number;
  /** Adam / RMSProp epsilon, as `makeOptimizer` (undefined: tfjs's 1e-7). */
  epsilon?: number;
  loss: DetectionLossOptions;
  points: AnchorPoints;
  classes: number;
  /** ONNX Runtime intra-op threads (default: the machine's available parallelism). */
  threads?: number;
  log(message: string): void;
}

/** The detector loss as the ONNX training graph's loss: targets [A, 6 + C] per image (assign.ts). */
export function detectionTrainLoss(loss: DetectionLossOptions, points: AnchorPoints, classes: number): CustomTrainLoss {
  return {
    targetShape: [points.count, targetChannels(classes)],
    emit: (g, output, target) => emitDetectionLoss(g, { alpha: loss.alpha, gamma: loss.gamma, boxWeight: loss.boxWeight, classes, cx: points.cx, cy: points.cy, stride: points.stride }, output, target),
  };
}

/**
 * The detector's training steps on ONNX Runtime (one graph: forward, loss, hand-written backward, Adam),
 * or undefined for tfjs. `onnxruntime` fails when it cannot be used; `auto` then trains on tfjs and logs why.
 */
export async function createDetectionTrainer(model: tf.LayersModel, options: DetectionTrainerOptions, extra: Partial<OrtTrainerOptions> = {}): Promise<ExternalTrainer | undefined> {
  return onnxRuntimeTrainer(options, (runtime, threads) =>
    OrtTrainer.create(model, { loss: detectionTrainLoss(options.loss, options.points, options.classes), optimizer: ortOptimizerConfig(options.optimizer, options.momentum, options.epsilon), threads, runtime, ...extra }),
  );
}
