import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsStore } from '../../src/store/fs-store.ts';
import { describeStoreContract } from './store-contract.ts';

describeStoreContract('fs', async () => FsStore.open(join(await mkdtemp(join(tmpdir(), 'fs-store-')), '.pipeline')));

test('fs store leaves no temp files behind after writes', async () => {
  const root = join(await mkdtemp(join(tmpdir(), 'fs-store-')), '.pipeline');
  const store = await FsStore.open(root);
  await store.putBlob('a');
  await store.putDoc('c', 'd', { a: 1 });
  assert.deepEqual(await readdir(join(root, 'tmp')), []);
});
