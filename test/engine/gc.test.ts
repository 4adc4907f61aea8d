import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempStore } from '../../src/testing/harness.ts';
import { collectGarbage, BLOB_ROOT_COLLECTIONS } from '../../src/engine/gc.ts';

test('gc frees unreferenced blobs but keeps those tracking records point at', async () => {
  const store = await tempStore();
  const kept = await store.putBlob('report.html of an old run');
  const orphan = await store.putBlob('nobody needs me');
  await store.putDoc(BLOB_ROOT_COLLECTIONS[0], 'run1', { artifacts: { 'report.html': kept } });
  const report = await collectGarbage(store);
  assert.equal(report.blobs, 1);
  assert.equal(await store.hasBlob(kept), true);
  assert.equal(await store.hasBlob(orphan), false);
});
