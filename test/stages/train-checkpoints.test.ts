import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainStage } from '../../src/stages/train.ts';
import { runStage, tempStore } from '../../src/testing/harness.ts';
import { CHECKPOINT_COLLECTION, type Checkpoint } from '../../src/ml/training/checkpoint.ts';
import { collectGarbage } from '../../src/engine/gc.ts';
import { loadModel } from '../../src/ml/model-io.ts';
import type { Store } from '../../src/store/store.ts';
import { copyBlobs } from './train-helpers.ts';
import { syntheticDataset } from './train-fixtures.ts';

const params = { model: 'small-cnn', width: 0.5, size: 32, batch: 16, lr: 3e-3, seed: 3, backend: 'wasm', monitor: 'val_loss', fold: 0 } as const;

async function blobs(store: Store): Promise<Set<string>> {
  const all = new Set<string>();
  for await (const b of store.listBlobs()) all.add(b);
  return all;
}

/** Records every checkpoint document the training writes (and the size of every blob it puts). */
function recording(store: Store, docs: Checkpoint[], sizes = new Map<string, number>()): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'putBlob') {
        return async (data: Uint8Array | string) => {
          const digest = await target.putBlob(data);
          sizes.set(digest, typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength);
          return digest;
        };
      }
      if (prop === 'putDoc') {
        return async (collection: string, id: string, doc: unknown) => {
          await target.putDoc(collection, id, doc);
          if (collection === CHECKPOINT_COLLECTION) docs.push(structuredClone(doc as Checkpoint));
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const referenced = (c: Checkpoint) => new Set([c.weights.blob, c.optimizer.blob, c.best.weights.blob]);

test('a 5-epoch training leaves only the last and the best checkpoint blobs; gc then drops those', async () => {
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 48, 32, 2, 7);
  const before = await blobs(store);
  const docs: Checkpoint[] = [];
  const sizes = new Map<string, number>();
  const result = await runStage(trainStage, { store: recording(store, docs, sizes), params: { ...params, epochs: 5 }, inputs: [{ artifact: { kind: 'dataset', rows, meta: { classes } } }] });
  const written = new Set(docs.flatMap((d) => [...referenced(d)]));
  const last = docs.at(-1)!;
  const added = [...(await blobs(store))].filter((b) => !before.has(b));
  const leftover = added.filter((b) => written.has(b));
  const bytes = (digests: Iterable<string>) => [...digests].reduce((sum, b) => sum + sizes.get(b)!, 0);
  console.log(`checkpoint blobs written ${written.size} (${bytes(written)} bytes), left ${leftover.length} (${bytes(leftover)} bytes); best epoch ${last.best.epoch}`);
  assert.ok(written.size >= 10, `5 epochs write weights and optimizer state each: ${written.size}`);
  assert.deepEqual(new Set(leftover), referenced(last), 'exactly the blobs of the last checkpoint (last weights, optimizer state, best weights)');
  assert.ok(leftover.length <= 3);
  const files = Object.values(result.artifact.files);
  assert.equal(result.artifact.files['weights.bin'], last.best.weights.blob, 'the output model\'s weights file is the best checkpoint blob');
  assert.equal(added.filter((b) => !written.has(b) && !files.includes(b)).length, 1, 'besides them only the model files and the input dataset\'s manifest');

  (await loadModel(store, result.artifact)).dispose();
  const report = await collectGarbage(store);
  assert.equal(report.checkpoints, 1);
  for (const b of leftover) assert.equal(await store.hasBlob(b), false, 'gc drops the resume state');
});

test('identical bytes stored before the training (another run\'s, an artifact\'s) survive when the checkpoint holding them is superseded', async () => {
  const first = await tempStore();
  const { rows, classes } = await syntheticDataset(first, 48, 32, 2, 7);
  const inputs = [{ artifact: { kind: 'dataset' as const, rows, meta: { classes } } }];
  await runStage(trainStage, { store: first, params: { ...params, epochs: 1 }, inputs });
  const epoch1 = (await first.getDoc<Checkpoint>(CHECKPOINT_COLLECTION, (await firstId(first))!))!;

  const store = await copyBlobs(first, rows);
  const shared = await store.putBlob(await first.getBlob(epoch1.weights.blob));
  const docs: Checkpoint[] = [];
  await runStage(trainStage, { store: recording(store, docs), params: { ...params, epochs: 3 }, inputs });
  assert.equal(docs[0].weights.blob, shared, 'the seeded training reproduces the epoch-1 weights byte for byte');
  assert.equal(docs[0].weights.owned, undefined);
  assert.ok(!referenced(docs.at(-1)!).has(shared), 'the final checkpoint no longer references the epoch-1 weights');
  assert.equal(await store.hasBlob(shared), true);
  assert.equal(await store.hasBlob(docs[0].optimizer.blob), false, 'the epoch-1 optimizer state, written by the training, is gone');
});

test('a finished run\'s model stays loadable when a rerun with more epochs continues it and finds a new best', async () => {
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 48, 32, 2, 7);
  const inputs = [{ artifact: { kind: 'dataset' as const, rows, meta: { classes } } }];
  const short = await runStage(trainStage, { store, params: { ...params, epochs: 2 }, inputs });
  const shortBest = (await store.getDoc<Checkpoint>(CHECKPOINT_COLLECTION, (await firstId(store))!))!.best;
  const long = await runStage(trainStage, { store, params: { ...params, epochs: 5 }, inputs });
  assert.ok(long.logs.some((l) => l.includes('resuming from the checkpoint of epoch 2')), long.logs.join('\n'));
  assert.notEqual((long.artifact.meta as { best_epoch: number }).best_epoch, shortBest.epoch, 'the continued run found another best epoch');
  assert.equal(await store.hasBlob(shortBest.weights.blob), true, 'the short run\'s best weights (its output model) stay');
  for (const digest of Object.values(short.artifact.files)) assert.equal(await store.hasBlob(digest), true);
  (await loadModel(store, short.artifact)).dispose();
});

async function firstId(store: Store): Promise<string | undefined> {
  for await (const id of store.listDocIds(CHECKPOINT_COLLECTION)) return id;
  return undefined;
}
