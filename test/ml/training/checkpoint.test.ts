import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHECKPOINT_COLLECTION, CheckpointStore, type Checkpoint, type StoredWeights } from '../../../src/ml/training/checkpoint.ts';
import { initialScheduleState } from '../../../src/ml/training/schedule.ts';
import { tempStore } from '../../../src/testing/harness.ts';
import type { Store } from '../../../src/store/store.ts';

const bytes = (tag: string) => new TextEncoder().encode(`weights of ${tag}`);

function checkpoint(epoch: number, weights: StoredWeights, optimizer: StoredWeights, best: StoredWeights): Checkpoint {
  return { epoch, weights, optimizer, schedule: initialScheduleState(0.1), history: [], best: { epoch, score: 0, weights: best }, stopped: false };
}

async function present(store: Store, ...stored: StoredWeights[]): Promise<boolean[]> {
  return Promise.all(stored.map((s) => store.hasBlob(s.blob)));
}

test('a superseded checkpoint loses the blobs it wrote that the new one does not reference; last and best stay', async () => {
  const store = await tempStore();
  const ckpt = new CheckpointStore(store, 'job');
  const w1 = await ckpt.putWeights(bytes('w1'), []);
  const o1 = await ckpt.putWeights(bytes('o1'), []);
  assert.equal(w1.owned, true);
  await ckpt.save(checkpoint(1, w1, o1, w1));
  const w2 = await ckpt.putWeights(bytes('w2'), []);
  const o2 = await ckpt.putWeights(bytes('o2'), []);
  await ckpt.save(checkpoint(2, w2, o2, w1)); // epoch 1 stays the best
  assert.deepEqual(await present(store, w1, o1, w2, o2), [true, false, true, true]);
  const w3 = await ckpt.putWeights(bytes('w3'), []);
  const o3 = await ckpt.putWeights(bytes('o3'), []);
  await ckpt.save(checkpoint(3, w3, o3, w3)); // a new best: the old best and epoch 2 go
  assert.deepEqual(await present(store, w1, w2, o2, w3, o3), [false, false, false, true, true]);
  assert.equal((await ckpt.load())?.epoch, 3);
});

test('bytes already in the store (another artifact, an init model) are never deleted, nor blobs of old checkpoints without the flag', async () => {
  const store = await tempStore();
  const shared = await store.putBlob(bytes('init model'));
  const ckpt = new CheckpointStore(store, 'job');
  const w1 = await ckpt.putWeights(bytes('init model'), []);
  assert.equal(w1.blob, shared);
  assert.equal(w1.owned, undefined);
  const o1 = await ckpt.putWeights(bytes('o1'), []);
  await ckpt.save(checkpoint(1, w1, o1, w1));
  const w2 = await ckpt.putWeights(bytes('w2'), []);
  const o2 = await ckpt.putWeights(bytes('o2'), []);
  await ckpt.save(checkpoint(2, w2, o2, w2));
  assert.deepEqual(await present(store, w1, o1), [true, false]);

  // A checkpoint document written before blobs carried `owned`.
  const legacy = { blob: await store.putBlob(bytes('legacy')), specs: [] };
  await store.putDoc(CHECKPOINT_COLLECTION, 'old', checkpoint(1, legacy, legacy, legacy));
  const old = new CheckpointStore(store, 'old');
  const w = await old.putWeights(bytes('new'), []);
  await old.save(checkpoint(2, w, w, w));
  assert.deepEqual(await present(store, legacy), [true]);
});

test('a blob referenced both as owned and not owned by the superseded checkpoint stays', async () => {
  const store = await tempStore();
  const ckpt = new CheckpointStore(store, 'job');
  const w1 = await ckpt.putWeights(bytes('w1'), []);
  await ckpt.save(checkpoint(1, w1, w1, { blob: w1.blob, specs: [] }));
  const w2 = await ckpt.putWeights(bytes('w2'), []);
  await ckpt.save(checkpoint(2, w2, w2, w2));
  assert.deepEqual(await present(store, w1), [true]);
});

test('keepBest: after a finished training the best weights (maybe the output model\'s file) survive a continuing run; clear() deletes no blob', async () => {
  const store = await tempStore();
  const ckpt = new CheckpointStore(store, 'job');
  const w1 = await ckpt.putWeights(bytes('w1'), []);
  const o1 = await ckpt.putWeights(bytes('o1'), []);
  await ckpt.save(checkpoint(1, w1, o1, w1));
  await ckpt.keepBest();
  const kept = await ckpt.load();
  assert.equal(kept?.best.weights.owned, undefined);
  assert.equal(kept?.weights.owned, true);
  const w2 = await ckpt.putWeights(bytes('w2'), []);
  const o2 = await ckpt.putWeights(bytes('o2'), []);
  await ckpt.save(checkpoint(2, w2, o2, w2));
  assert.deepEqual(await present(store, w1, o1), [true, false], 'the best blob (also the last weights) stays, the optimizer state goes');

  await ckpt.clear();
  assert.deepEqual(await present(store, w2, o2), [true, true]);
  const w3 = await ckpt.putWeights(bytes('w3'), []);
  await ckpt.save(checkpoint(1, w3, w3, w3));
  assert.deepEqual(await present(store, w2, o2), [true, true], 'after clear() nothing of the forgotten checkpoint is deleted');
});
