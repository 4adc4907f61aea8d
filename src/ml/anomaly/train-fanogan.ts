import * as tf from '../tf.ts';
import type { DatasetRow } from '../../data-model.ts';
import { shuffled } from '../../util/random.ts';
import type { CheckpointStore, EpochRecord } from '../training/checkpoint.ts';
import { runEpochs, type EpochsResult } from '../training/epoch-loop.ts';
import { restoreModelWeights } from '../training/weights-io.ts';
import { variablesOf, type Fanogan } from './fanogan.ts';
import { createEncoderTrainer, createGanTrainer } from './anomaly-engine.ts';
import { GanTrainer, type GanSettings } from './gan-trainer.ts';
import type { TrainEngine } from '../training/train-engine.ts';
import type { LipschitzMethod } from './lipschitz.ts';
import { imageBatch, validateScores, type AnomalyJobBase } from './train-anomaly.ts';

/** One WGAN epoch: the critic loss (minus the Wasserstein estimate) and the generator's. */
export interface GanEpoch {
  epoch: number;
  critic_loss: number;
  generator_loss?: number;
  generator_steps: number;
  seconds: number;
}

export interface FanoganTrainJob extends AnomalyJobBase {
  gan: Fanogan;
  wgan: { epochs: number; lr: number; nCritic: number; lipschitz: LipschitzMethod; clip: number };
  /** The WGAN stage's and the encoder stage's resume state. */
  checkpoints: { gan: CheckpointStore; encoder: CheckpointStore };
  /** The training engine of both phases (auto: ONNX Runtime where it can). */
  engine: { engine: TrainEngine; threads?: number };
  onGanEpoch(record: GanEpoch): void;
}

export interface FanoganResult {
  gan: EpochsResult;
  encoder: EpochsResult;
}

/**
 * f-AnoGAN's two trainings on the normal rows, each with the epoch loop's contract (seeded order and
 * augmentation, a checkpoint per epoch, exact resume): (1) the WGAN (`GanTrainer`), ending with its last
 * epoch's generator and critic (a GAN has no validation score to pick an epoch by); (2) the izi_f encoder
 * with G and D frozen, minimising the scoring model's mean output (the izi_f loss) over the encoder's
 * variables only, the generator's batch norms in inference mode; validation, best epoch and early stopping
 * as the autoencoder's. Leaves the best encoder epoch's weights in `gan`.
 */
export async function trainFanogan(job: FanoganTrainJob): Promise<FanoganResult> {
  const { gan, loader, config } = job;
  const perEpoch = Math.ceil(job.trainRows.length / config.batch);
  const total = perEpoch * (job.wgan.epochs + config.epochs);
  const common = { model: gan.bundle, trainRows: job.trainRows, signal: job.signal, log: job.log };
  const load = (rows: DatasetRow[]) => loader.batch(rows.map((r) => r.image as string));

  const settings: GanSettings = { nCritic: job.wgan.nCritic, lipschitz: job.wgan.lipschitz, clip: job.wgan.clip, seed: config.seed };
  const engine = { ...job.engine, log: job.log };
  const trainer = (await createGanTrainer(gan, settings, engine)) ?? new GanTrainer(gan, settings, job.wgan.lr);
  let ganResult: EpochsResult;
  try {
    ganResult = await runEpochs(
      {
        ...common,
        config: { ...config, epochs: job.wgan.epochs, optimizer: 'rmsprop', lr: job.wgan.lr, momentum: 0, schedule: { type: 'constant' }, monitor: 'val_loss', earlyStopping: null },
        checkpoints: job.checkpoints.gan,
        trainer,
        onEpoch: (r: EpochRecord) => {
          const g = trainer.takeGeneratorLosses();
          job.onGanEpoch({ epoch: r.epoch, critic_loss: r.train_loss, generator_loss: g.mean, generator_steps: g.steps, seconds: r.seconds });
        },
        onProgress: (done) => job.onProgress(done, total),
      },
      {
        order: shuffled,
        load,
        async step(decoded, rows, { lr, random }) {
          const x = imageBatch(decoded, rows.length, loader, config.augment, random);
          try {
            return await trainer.step(x.dataSync() as Float32Array, new Float32Array(0), rows.length, lr);
          } finally {
            x.dispose();
          }
        },
        validate: async () => ({}),
      },
    );
  } finally {
    await trainer.dispose();
  }
  // the epoch loop restored its "best" epoch (lowest critic loss, meaningless for a GAN): take the last one
  const last = await job.checkpoints.gan.load();
  if (last) restoreModelWeights(gan.bundle, await job.checkpoints.gan.getWeights(last.weights), last.weights.specs);

  const encoderVars = variablesOf(gan.encoder);
  const offset = perEpoch * job.wgan.epochs;
  // created after the WGAN's last weights are in the model: on ONNX Runtime they are the step's constants
  const encoderTrainer = await createEncoderTrainer(gan, { ...engine, optimizer: config.optimizer, momentum: config.momentum, epsilon: config.epsilon });
  try {
    const encoder = await runEpochs(
      { ...common, config, checkpoints: job.checkpoints.encoder, trainer: encoderTrainer, onEpoch: job.onEpoch, onProgress: (done) => job.onProgress(offset + done, total) },
      {
        order: shuffled,
        load,
        async step(decoded, rows, { optimizer, lr, random }) {
          const x = imageBatch(decoded, rows.length, loader, config.augment, random);
          try {
            if (encoderTrainer) return await encoderTrainer.step(x.dataSync() as Float32Array, new Float32Array(0), rows.length, lr);
            return tf.tidy(() => optimizer.minimize(() => (gan.scorer.apply(x, { training: false }) as tf.Tensor).mean() as tf.Scalar, true, encoderVars)!.dataSync()[0]);
          } finally {
            x.dispose();
          }
        },
        validate: async (first) => (job.valRows.length > 0 ? validateScores({ ...job, scorer: gan.scorer }, first) : {}),
      },
    );
    return { gan: ganResult, encoder };
  } finally {
    await encoderTrainer?.dispose();
  }
}
