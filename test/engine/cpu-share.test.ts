import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuShare } from '../../src/engine/cpu-share.ts';

test('cores are split among the isolated stages that can run side by side', () => {
  const folds = new CpuShare(3, 2, 2);
  assert.equal(folds.threadsForNext(), 1); // fold 0 and fold 1 start together: one core each
  assert.equal(folds.threadsForNext(), 1);
  folds.settled(); // fold 0 done; fold 2 starts while fold 1 still runs
  assert.equal(folds.threadsForNext(), 1);
  folds.settled();
  folds.settled();
  assert.equal(new CpuShare(1, 2, 2).threadsForNext(), 2); // a single training stage gets both cores
  assert.equal(new CpuShare(5, 1, 8).threadsForNext(), 8); // concurrency 1: one at a time, all cores
  assert.equal(new CpuShare(4, 4, 2).threadsForNext(), 1); // never below one thread
});
