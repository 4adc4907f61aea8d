import * as tf from '../tf.ts';
import type { Checkpoint, CheckpointStore, EpochRecord } from './checkpoint.ts';
import { initialScheduleState, type ScheduleState } from './schedule.ts';
import { restoreTfjsOptimizerState, tfjsOptimizerState } from './optimizer-state.ts';
import { shouldStop, watchEpoch, type Metric } from './selection.ts';
import type { ExternalTrainer } from './train-engine.ts';
import { decodeTensorList, encodeModelWeights, encodeTensorList, restoreModelWeights } from './weights-io.ts';

/** What a training loop carries from epoch to epoch (and a checkpoint restores). */
export interface LoopState {
  history: EpochRecord[];
  schedule: ScheduleState;
  best: Checkpoint['best'] | undefined;
  /** The best epoch by early stopping's metric. */
  stopWatch: Checkpoint['earlyStopping'];
  stopped: boolean;
  startEpoch: number;
}

interface Trained {
  model: tf.LayersModel;
  checkpoints: CheckpointStore;
  trainer?: ExternalTrainer;
  log(message: string): void;
}

/** The last checkpoint's state, weights and optimizer state restored into the model / optimizer / trainer; a fresh state without one. */
export async function resumeTraining(job: Trained, optimizer: tf.Optimizer, baseLr: number): Promise<LoopState> {
  const previous = await job.checkpoints.load();
  if (!previous) return { history: [], schedule: initialScheduleState(baseLr), best: undefined, stopWatch: undefined, stopped: false, startEpoch: 1 };
  restoreModelWeights(job.model, await job.checkpoints.getWeights(previous.weights), previous.weights.specs);
  const slots = decodeTensorList(await job.checkpoints.getWeights(previous.optimizer), previous.optimizer.specs);
  if (job.trainer) {
    job.trainer.readFromModel();
    await job.trainer.setOptimizerWeights(slots);
    tf.dispose(slots.map((s) => s.tensor));
  } else if (slots.length > 0) await restoreTfjsOptimizerState(optimizer, slots);
  job.log(`resuming from the checkpoint of epoch ${previous.epoch}`);
  return { history: previous.history.filter((h) => h.epoch <= previous.epoch), schedule: previous.schedule, best: previous.best, stopWatch: previous.earlyStopping, stopped: previous.stopped, startEpoch: previous.epoch + 1 };
}

export interface EpochEnd {
  record: EpochRecord;
  epochs: number;
  /** The metric choosing the best checkpoint (the output model). */
  monitor: Metric;
  /** Stop when `metric` has not improved for `patience` epochs (watched apart from `monitor`, selection.ts). */
  earlyStopping: { patience: number; metric: Metric } | null;
  schedule: ScheduleState;
  history: EpochRecord[];
}

/**
 * After an epoch: the weights to the store, the best epoch updated, early stopping decided, then the
 * optimizer state and one checkpoint document (blobs first: a crash in between keeps the previous one).
 */
export async function checkpointEpoch(job: Trained, optimizer: tf.Optimizer, selection: Pick<LoopState, 'best' | 'stopWatch'>, end: EpochEnd): Promise<Pick<LoopState, 'best' | 'stopWatch' | 'stopped'>> {
  const { checkpoints } = job;
  const { record } = end;
  const encoded = await encodeModelWeights(job.model);
  const weights = await checkpoints.putWeights(encoded.data, encoded.specs);
  const best = watchEpoch(selection.best, record, end.monitor, { weights });
  let stopWatch = selection.stopWatch;
  let stopped = false;
  if (end.earlyStopping) {
    const { metric, patience } = end.earlyStopping;
    stopWatch = watchEpoch(stopWatch, record, metric, {});
    stopped = shouldStop(stopWatch, record.epoch, patience, end.epochs);
    if (stopped) job.log(`early stopping at epoch ${record.epoch}: no ${metric} improvement since epoch ${stopWatch.epoch} (patience ${patience}); the model is the best epoch by ${end.monitor}, ${best.epoch}`);
  }
  const slots = job.trainer ? await job.trainer.getOptimizerWeights() : await tfjsOptimizerState(optimizer);
  const state = await encodeTensorList(slots);
  // getWeights returns the optimizer's variables plus a fresh iteration-count scalar: free that one.
  tf.dispose(slots.filter((s) => !(s.tensor instanceof tf.Variable)).map((s) => s.tensor));
  const optimizerState = await checkpoints.putWeights(state.data, state.specs);
  await checkpoints.save({ epoch: record.epoch, weights, optimizer: optimizerState, schedule: end.schedule, history: end.history, best, earlyStopping: stopWatch, stopped });
  return { best, stopWatch, stopped };
}

/** Leaves the best epoch's weights in the model. */
export async function restoreBest(job: Trained, best: Checkpoint['best'] | undefined): Promise<void> {
  if (best) restoreModelWeights(job.model, await job.checkpoints.getWeights(best.weights), best.weights.specs);
}
