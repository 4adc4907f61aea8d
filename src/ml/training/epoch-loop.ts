import type * as tf from '../tf.ts';
import { seededRandom } from '../../util/random.ts';
import type { CheckpointStore, EpochRecord } from './checkpoint.ts';
import { checkpointEpoch, restoreBest, resumeTraining } from './epoch-state.ts';
import type { OptimizationConfig } from './loop.ts';
import { makeOptimizer, setLearningRate } from './optimizer.ts';
import { epochBatches } from './sampler.ts';
import { learningRate, observeEpoch } from './schedule.ts';
import type { Metric } from './selection.ts';
import type { ExternalTrainer } from './train-engine.ts';

/** What every training loop hands the epoch driver. */
export interface EpochJob<R> {
  model: tf.LayersModel;
  trainRows: R[];
  config: OptimizationConfig & { monitor: Metric; earlyStopping: { patience: number; metric: Metric } | null };
  checkpoints: CheckpointStore;
  /** Runs the optimizer steps instead of tfjs: its weights are written into `model` before validating and checkpointing. */
  trainer?: ExternalTrainer;
  signal: AbortSignal;
  log(message: string): void;
  onEpoch(record: EpochRecord): void;
  onProgress(done: number, total: number): void;
}

/** What differs between the training loops (classification, detection, anomaly). */
export interface EpochSteps<R, B> {
  /** The epoch's order of the training rows, drawn from `random`. */
  order(rows: readonly R[], random: () => number): R[];
  /** Work before the epoch's first batch, after its order was drawn (e.g. decoding mosaic partners). */
  beforeEpoch?(random: () => number): Promise<void>;
  /** Decodes a batch (started while the previous batch trains). */
  load(rows: R[]): Promise<B>;
  /** One optimizer step on a decoded batch; returns the batch's mean loss. */
  step(batch: B, rows: R[], context: { optimizer: tf.Optimizer; lr: number; random: () => number }): Promise<number>;
  /** The epoch's validation scores (the model holds the epoch's weights); `first`: the first epoch of this run. */
  validate(first: boolean): Promise<Pick<EpochRecord, 'val_loss' | 'val_auc' | 'val_map'>>;
}

export interface EpochsResult {
  history: EpochRecord[];
  bestEpoch: number;
  /** Epochs run by this call (the rest came from a checkpoint). */
  epochsRun: number;
  resumedFrom: number;
  stoppedEarly: boolean;
}

/**
 * The epochs of a training loop: resume from the last checkpoint; per epoch the learning rate of the
 * schedule, a seeded random stream (order, augmentation), batches decoded ahead of the running step, one
 * optimizer step per batch, validation, the schedule's observation, the best epoch, early stopping and a
 * checkpoint in the store (so a killed run resumes at the next epoch to the same weights). Leaves the best
 * epoch's weights in `job.model`.
 */
export async function runEpochs<R, B>(job: EpochJob<R>, steps: EpochSteps<R, B>): Promise<EpochsResult> {
  const { config } = job;
  const optimizer = makeOptimizer(config.optimizer, config.lr, config.momentum);
  let { history, schedule, best, stopWatch, stopped, startEpoch } = await resumeTraining(job, optimizer, config.lr);
  const batchesPerEpoch = Math.ceil(job.trainRows.length / config.batch);
  const totalBatches = batchesPerEpoch * config.epochs;
  let epochsRun = 0;
  try {
    for (let epoch = startEpoch; epoch <= config.epochs && !stopped; epoch++) {
      const started = Date.now();
      if (epoch > startEpoch) {
        const change = await job.trainer?.recheckPool?.(); // the pool's spinning follows the machine's load
        if (change) job.log(change);
      }
      const lr = learningRate(config.schedule, config.lr, epoch, config.epochs, schedule);
      setLearningRate(optimizer, lr);
      const random = seededRandom(config.seed * 100_003 + epoch);
      const batches = epochBatches(steps.order(job.trainRows, random), config.batch);
      await steps.beforeEpoch?.(random);
      let lossSum = 0;
      let seen = 0;
      let next = steps.load(batches[0]);
      for (const [b, rows] of batches.entries()) {
        const batch = await next;
        if (b + 1 < batches.length) next = steps.load(batches[b + 1]);
        if (job.signal.aborted) {
          await next.catch(() => undefined);
          throw job.signal.reason ?? new Error('cancelled');
        }
        const loss = await steps.step(batch, rows, { optimizer, lr, random });
        if (!Number.isFinite(loss)) throw new Error(`training diverged at epoch ${epoch}, batch ${b + 1}: loss ${loss}; lower lr`);
        lossSum += loss * rows.length;
        seen += rows.length;
        job.onProgress((epoch - 1) * batchesPerEpoch + b + 1, totalBatches);
      }
      job.trainer?.writeToModel();
      const record: EpochRecord = { epoch, lr, train_loss: lossSum / seen, seconds: 0, ...(await steps.validate(epoch === startEpoch)) };
      record.seconds = (Date.now() - started) / 1000;
      history.push(record);
      schedule = observeEpoch(config.schedule, schedule, record.val_loss ?? record.train_loss);
      job.onEpoch(record);
      ({ best, stopWatch, stopped } = await checkpointEpoch(job, optimizer, { best, stopWatch }, { record, epochs: config.epochs, monitor: config.monitor, earlyStopping: config.earlyStopping, schedule, history }));
      epochsRun++;
    }
  } finally {
    optimizer.dispose();
  }
  await job.checkpoints.keepBest();
  await restoreBest(job, best);
  return { history, bestEpoch: best?.epoch ?? 0, epochsRun, resumedFrom: startEpoch - 1, stoppedEarly: stopped };
}
