import type { Store } from '../../store/store.ts';
import type * as tf from '../tf.ts';
import type { ScheduleState } from './schedule.ts';

export const CHECKPOINT_COLLECTION = 'train-checkpoints';

export interface EpochRecord {
  epoch: number;
  lr: number;
  train_loss: number;
  val_loss?: number;
  val_auc?: number;
  /** Detection: VOC mAP of the validation boxes. */
  val_map?: number;
  seconds: number;
}

export interface StoredWeights {
  blob: string;
  specs: tf.io.WeightsManifestEntry[];
}

/** The state after a finished epoch: enough to continue training exactly where it stopped. */
export interface Checkpoint {
  epoch: number;
  weights: StoredWeights;
  optimizer: StoredWeights;
  schedule: ScheduleState;
  history: EpochRecord[];
  /** The best epoch by the `monitor` metric so far (its weights become the output model). */
  best: { epoch: number; score: number; weights: StoredWeights };
  /** The best epoch by early stopping's metric so far (absent without early stopping). */
  earlyStopping?: { epoch: number; score: number };
  /** Early stopping already ended this run at `epoch`. */
  stopped: boolean;
}

/** Checkpoints of one training job (one fold of one configuration), keyed by its fingerprint. */
export class CheckpointStore {
  constructor(
    private readonly store: Store,
    readonly key: string,
  ) {}

  /** The last checkpoint, unless `pipeline gc` (or anything else) removed one of its blobs since. */
  async load(): Promise<Checkpoint | undefined> {
    const checkpoint = await this.store.getDoc<Checkpoint>(CHECKPOINT_COLLECTION, this.key);
    if (!checkpoint) return undefined;
    const blobs = [checkpoint.weights.blob, checkpoint.optimizer.blob, checkpoint.best.weights.blob];
    const present = await Promise.all(blobs.map((b) => this.store.hasBlob(b)));
    return present.every(Boolean) ? checkpoint : undefined;
  }

  /** Forgets the resume state (a forced rerun trains from scratch). */
  async clear(): Promise<void> {
    await this.store.deleteDoc(CHECKPOINT_COLLECTION, this.key);
  }

  /** Blobs first, then the document: a crash in between leaves the previous checkpoint intact. */
  async save(checkpoint: Checkpoint): Promise<void> {
    await this.store.putDoc(CHECKPOINT_COLLECTION, this.key, checkpoint);
  }

  async putWeights(data: Uint8Array, specs: tf.io.WeightsManifestEntry[]): Promise<StoredWeights> {
    return { blob: await this.store.putBlob(data), specs };
  }

  async getWeights(stored: StoredWeights): Promise<Uint8Array> {
    return this.store.getBlob(stored.blob);
  }
}
