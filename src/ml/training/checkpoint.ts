import type { Store } from '../../store/store.ts';
import { sha256 } from '../../util/hash.ts';
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
  /**
   * This checkpoint store wrote the blob (it was not in the store before), so it may delete it once no
   * checkpoint references it. Absent (older checkpoints, or bytes someone else stored first): never deleted.
   */
  owned?: boolean;
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

  /**
   * Blobs first, then the document: a crash in between leaves the previous checkpoint intact. Then the
   * superseded checkpoint's blobs that this store wrote and the new one does not reference are deleted
   * (a crash before that leaves them to `pipeline gc`), so a training keeps the last and best epochs only.
   */
  async save(checkpoint: Checkpoint): Promise<void> {
    const previous = await this.store.getDoc<Checkpoint>(CHECKPOINT_COLLECTION, this.key);
    await this.store.putDoc(CHECKPOINT_COLLECTION, this.key, checkpoint);
    if (!previous) return;
    const kept = new Set(referenced(checkpoint).map((w) => w.blob));
    for (const w of referenced(previous)) if (w.owned !== true) kept.add(w.blob);
    const dropped = new Set(referenced(previous).map((w) => w.blob).filter((blob) => !kept.has(blob)));
    for (const blob of dropped) await this.store.deleteBlob(blob);
  }

  /**
   * At the end of a training: the best weights become the output model, whose file may be the same blob,
   * so a later run continuing this one (more epochs) must never delete them.
   */
  async keepBest(): Promise<void> {
    const last = await this.store.getDoc<Checkpoint>(CHECKPOINT_COLLECTION, this.key);
    if (!last?.best.weights.owned) return;
    const { owned: _owned, ...weights } = last.best.weights;
    await this.store.putDoc(CHECKPOINT_COLLECTION, this.key, { ...last, best: { ...last.best, weights } });
  }

  /** Stores the bytes; `owned` when they were not in the store yet (identical bytes may be another artifact's). */
  async putWeights(data: Uint8Array, specs: tf.io.WeightsManifestEntry[]): Promise<StoredWeights> {
    const existed = await this.store.hasBlob(sha256(data));
    const blob = await this.store.putBlob(data);
    return existed ? { blob, specs } : { blob, specs, owned: true };
  }

  async getWeights(stored: StoredWeights): Promise<Uint8Array> {
    return this.store.getBlob(stored.blob);
  }
}

function referenced(checkpoint: Checkpoint): StoredWeights[] {
  return [checkpoint.weights, checkpoint.optimizer, checkpoint.best.weights];
}
