import type * as tf from '../tf.ts';
import { seededRandom } from '../../util/random.ts';
import type { CheckpointStore, EpochRecord } from './checkpoint.ts';
import { checkpointEpoch, restoreBest, resumeTraining } from './epoch-state.ts';
import type { OptimizationConfig } from './loop.ts';
import { makeOptimizer, setLearningRate } from './optimizer.ts';
import { epochBatches } from './sampler.ts';
import { learningRate, observeEpoch } from './schedule.ts';
import type { Metric } from './selection.ts';
import type { ExternalTrainer, StepBatch } from './train-engine.ts';

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
  /**
   * The external trainer's input of a decoded batch, drawing from `random` as `step` would (augmentation,
   * mixup). With it, a trainer that runs several steps per call (`stepMany`) gets full groups of
   * same-sized batches in one call; the other batches still go through `step`.
   */
  prepare?(batch: B, rows: R[], context: { random: () => number }): StepBatch;
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
  const optimizer = makeOptimizer(config.optimizer, config.lr, config.momentum, config.epsilon);
  let { history, schedule, best, stopWatch, stopped, startEpoch } = await resumeTraining(job, optimizer, config.lr);
  const batchesPerEpoch = Math.ceil(job.trainRows.length / config.batch);
  const totalBatches = batchesPerEpoch * config.epochs;
  // batches per external-trainer call (1: a step per batch)
  const group = job.trainer?.stepMany && steps.prepare ? Math.max(1, job.trainer.stepsPerRun ?? 1) : 1;
  if (group > 1) job.log(`training engine: ${group} optimizer steps per run (groups of ${group} equal-sized batches)`);
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
      const decoded = decodeAhead(batches, steps.load, group);
      for (let b = 0; b < batches.length; ) {
        const count = fullGroup(batches, b, group) ? group : 1;
        const loaded: B[] = [];
        for (let k = 0; k < count; k++) loaded.push(await decoded.take());
        if (job.signal.aborted) {
          await decoded.settle();
          throw job.signal.reason ?? new Error('cancelled');
        }
        const losses =
          count === 1
            ? [await steps.step(loaded[0], batches[b], { optimizer, lr, random })]
            : await job.trainer!.stepMany!(
                loaded.map((batch, k) => steps.prepare!(batch, batches[b + k], { random })),
                batches[b].length,
                lr,
              );
        for (const loss of losses) {
          if (!Number.isFinite(loss)) throw new Error(`training diverged at epoch ${epoch}, batch ${b + 1}: loss ${loss}; lower lr`);
          lossSum += loss * batches[b].length;
          seen += batches[b].length;
          b++;
          job.onProgress((epoch - 1) * batchesPerEpoch + b, totalBatches);
        }
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

/** Whether batches `b` .. `b + group - 1` exist and have one size (a group of one always does). */
function fullGroup<R>(batches: readonly R[][], b: number, group: number): boolean {
  if (b + group > batches.length) return false;
  return batches.slice(b, b + group).every((rows) => rows.length === batches[b].length);
}

/**
 * Decodes the epoch's batches in order, `ahead` of them in flight: `take()` waits for the next one,
 * then starts decoding another (with ahead 1: the next batch decodes while one trains).
 */
function decodeAhead<R, B>(batches: readonly R[][], load: (rows: R[]) => Promise<B>, ahead: number): { take(): Promise<B>; settle(): Promise<void> } {
  const pending: Promise<B>[] = [];
  let started = 0;
  const fill = () => {
    while (pending.length < ahead && started < batches.length) pending.push(load(batches[started++]));
  };
  fill();
  return {
    async take() {
      const batch = await pending.shift()!;
      fill();
      return batch;
    },
    async settle() {
      await Promise.allSettled(pending);
    },
  };
}
