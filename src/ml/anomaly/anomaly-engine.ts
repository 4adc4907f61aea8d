import type * as tf from '../tf.ts';
import { OrtTrainer } from '../onnx/training/ort-trainer.ts';
import { emitReconstructionLoss } from '../onnx/training/reconstruction-loss-graph.ts';
import type { CustomTrainLoss } from '../onnx/training/train-graph.ts';
import { meanCombinationLoss } from '../onnx/training/mean-loss-graph.ts';
import type { Fanogan } from './fanogan.ts';
import type { GanSettings, WganTrainer } from './gan-trainer.ts';
import { OrtGanTrainer } from './gan-trainer-ort.ts';
import { ortOptimizerConfig, type OptimizerName } from '../training/optimizer.ts';
import { onnxRuntimeTrainer, type ExternalTrainer, type TrainEngine } from '../training/train-engine.ts';

export interface AnomalyTrainerOptions {
  engine: TrainEngine;
  optimizer: OptimizerName;
  /** Momentum of sgd (Nesterov) / rmsprop, as `makeOptimizer`. */
  momentum: number;
  /** Adam / RMSProp epsilon, as `makeOptimizer` (undefined: tfjs's 1e-7). */
  epsilon?: number;
  /** Values per image (size x size x channels): the target's length. */
  pixels: number;
  /** ONNX Runtime intra-op threads (default: the machine's available parallelism). */
  threads?: number;
  log(message: string): void;
}

/** The reconstruction loss as the ONNX training graph's loss: the target is the flattened input image. */
export function reconstructionTrainLoss(pixels: number): CustomTrainLoss {
  return { targetShape: [pixels], emit: (g, output, target) => emitReconstructionLoss(g, pixels, output, target) };
}

/**
 * The autoencoder's training steps on ONNX Runtime (one graph: forward, MSE, hand-written backward, the
 * optimizer), or undefined for tfjs. `onnxruntime` fails when it cannot be used; `auto` then trains on tfjs and logs why.
 */
export async function createAnomalyTrainer(model: tf.LayersModel, options: AnomalyTrainerOptions): Promise<ExternalTrainer | undefined> {
  return onnxRuntimeTrainer(options, (runtime, threads) =>
    OrtTrainer.create(model, { loss: reconstructionTrainLoss(options.pixels), optimizer: ortOptimizerConfig(options.optimizer, options.momentum, options.epsilon), threads, runtime }),
  );
}

/** f-AnoGAN's WGAN steps on ONNX Runtime (`OrtGanTrainer`), or undefined for tfjs (as `createAnomalyTrainer`). */
export async function createGanTrainer(gan: Pick<Fanogan, 'generator' | 'critic'>, settings: GanSettings, options: Pick<AnomalyTrainerOptions, 'engine' | 'threads' | 'log'>): Promise<WganTrainer | undefined> {
  return (await onnxRuntimeTrainer(options, (runtime, threads) => OrtGanTrainer.create(gan, settings, runtime, threads))) as WganTrainer | undefined;
}

/**
 * f-AnoGAN's izi_f encoder steps on ONNX Runtime, or undefined for tfjs: the scoring model's graph in
 * inference mode (the generator's batch norms on their moving statistics, as tfjs's training: false),
 * the mean score as the loss, only the encoder's weights trained; the generator's and the critic's
 * weights, fixed in this phase, are the graph's constants (read when it is built).
 */
export async function createEncoderTrainer(gan: Pick<Fanogan, 'scorer' | 'encoder'>, options: Omit<AnomalyTrainerOptions, 'pixels'>): Promise<ExternalTrainer | undefined> {
  return onnxRuntimeTrainer(options, (runtime, threads) =>
    OrtTrainer.create(gan.scorer, { loss: meanCombinationLoss([1]), optimizer: ortOptimizerConfig(options.optimizer, options.momentum, options.epsilon), trainable: gan.encoder.trainableWeights, training: false, threads, runtime }),
  );
}
