import type { EpochRecord } from './checkpoint.ts';

/** A validation metric the train stage can watch (val_map: detection). */
export type Metric = 'val_auc' | 'val_loss' | 'val_map';

/** Higher is better: the metric (val AUC, val mAP), else minus val loss, else minus train loss. */
export function scoreOf(record: EpochRecord, metric: Metric): number {
  if (metric !== 'val_loss' && record[metric] !== undefined) return record[metric]!;
  if (record.val_loss !== undefined) return -record.val_loss;
  return -record.train_loss;
}

/** The best epoch of one metric so far. */
export interface Watch {
  epoch: number;
  score: number;
}

/** The watch after `record`: moved to this epoch when its score is strictly better (ties keep the earlier epoch). */
export function watchEpoch<W extends Watch>(watch: W | undefined, record: EpochRecord, metric: Metric, extra: Omit<W, keyof Watch>): W {
  const score = scoreOf(record, metric);
  return !watch || score > watch.score ? ({ ...extra, epoch: record.epoch, score } as W) : watch;
}

/**
 * Early stopping after `epoch`: `patience` epochs without improvement of its metric, and epochs left.
 * Watched apart from the checkpoint monitor (as Keras's EarlyStopping and ModelCheckpoint callbacks), so
 * `early_stopping.metric: val_auc` with `monitor: val_loss` stops on AUC and keeps the lowest-loss model.
 */
export function shouldStop(watch: Watch, epoch: number, patience: number, epochs: number): boolean {
  return epoch - watch.epoch >= patience && epoch < epochs;
}
