import * as tf from '../../src/ml/tf.ts';
import { tempStore, type StageRunResult } from '../../src/testing/harness.ts';
import { CHECKPOINT_COLLECTION } from '../../src/ml/training/checkpoint.ts';
import type { Store } from '../../src/store/store.ts';

/** A store that aborts the run once `after` checkpoints were written (a kill after that epoch). */
export function abortingStore(store: Store, after: number, controller: AbortController): Store {
  let saved = 0;
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'putDoc') {
        return async (collection: string, id: string, doc: unknown) => {
          await target.putDoc(collection, id, doc);
          if (collection === CHECKPOINT_COLLECTION && ++saved === after) controller.abort(new Error('killed'));
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A new store with the image blobs of `rows` (no checkpoints). */
export async function copyBlobs(from: Store, rows: Array<{ image?: string }>): Promise<Store> {
  const to = await tempStore();
  for (const r of rows) await to.putBlob(await from.getBlob(r.image!));
  return to;
}

/** A model artifact's weight tensors by name (model.json's manifest over weights.bin). */
export async function modelWeights(result: StageRunResult): Promise<Map<string, Float32Array>> {
  const manifest = (JSON.parse((await result.file('model.json')).toString('utf8')) as { weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }> }).weightsManifest;
  const bin = await result.file('weights.bin');
  const decoded = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer, manifest.flatMap((g) => g.weights));
  const weights = new Map(Object.entries(decoded).map(([name, t]) => [name, t.dataSync() as Float32Array]));
  tf.dispose(Object.values(decoded));
  return weights;
}
