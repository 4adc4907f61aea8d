import { availableParallelism } from 'node:os';
import type * as tf from '../tf.ts';
import { nativeTensorflowReason } from '../native-tensorflow.ts';
import { loadOnnxRuntime, onnxRuntimeLoadError } from '../onnx/runtime.ts';
import { emitDetectionLoss } from '../onnx/training/detection-loss-graph.ts';
import { OrtTrainer, type OrtTrainerOptions } from '../onnx/training/ort-trainer.ts';
import type { CustomTrainLoss } from '../onnx/training/train-graph.ts';
import type { OptimizerName } from '../training/optimizer.ts';
import type { ExternalTrainer, TrainEngine } from '../training/train-engine.ts';
import { targetChannels, type AnchorPoints } from './assign.ts';
import type { DetectionLossOptions } from './loss.ts';

export interface DetectionTrainerOptions {
  engine: TrainEngine;
  optimizer: OptimizerName;
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
  if (options.engine === 'tfjs') return undefined;
  try {
    const native = options.engine === 'auto' ? nativeTensorflowReason() : undefined;
    if (native) throw new Error(native);
    const runtime = await loadOnnxRuntime();
    if (!runtime) throw new Error(`onnxruntime-node is not available (${onnxRuntimeLoadError() ?? 'not installed'})`);
    const threads = options.threads ?? availableParallelism();
    const trainer = await OrtTrainer.create(model, { loss: detectionTrainLoss(options.loss, options.points, options.classes), optimizer: { name: options.optimizer }, threads, runtime, ...extra });
    options.log(`training engine: onnxruntime (${threads} thread${threads === 1 ? '' : 's'})`);
    return trainer;
  } catch (e) {
    if (options.engine === 'onnxruntime') throw e;
    options.log(`training engine: tfjs (${e instanceof Error ? e.message : String(e)})`);
    return undefined;
  }
}
