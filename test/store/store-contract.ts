import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import type { Store } from '../../src/store/store.ts';
import { sha256 } from '../../src/util/hash.ts';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The behaviour every Store backend must have. Call it from a backend's test file. */
export function describeStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });

    test('blobs are addressed by the sha256 of their bytes and deduplicated', async () => {
      const digest = await store.putBlob('hello blob');
      assert.equal(digest, sha256('hello blob'));
      assert.equal(await store.putBlob(Buffer.from('hello blob')), digest);
      assert.equal((await store.getBlob(digest)).toString(), 'hello blob');
      assert.equal(await store.hasBlob(digest), true);
      assert.equal(await store.blobSize(digest), 10);
      assert.equal(await text(store.blobStream(digest)), 'hello blob');
      assert.ok((await collect(store.listBlobs())).includes(digest));
    });

    test('putBlobFromFile streams a file in and returns the same digest as putBlob', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'store-contract-'));
      const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
      await writeFile(join(dir, 'f.bin'), big);
      const digest = await store.putBlobFromFile(join(dir, 'f.bin'));
      assert.equal(digest, sha256(big));
      assert.equal((await store.getBlob(digest)).length, big.length);
    });

    test('missing blobs are reported, deleted blobs disappear', async () => {
      const missing = sha256('never stored ' + Math.random());
      assert.equal(await store.hasBlob(missing), false);
      assert.equal(await store.blobSize(missing), undefined);
      await assert.rejects(store.getBlob(missing), /not in the store|not found|missing/i);
      const digest = await store.putBlob('to delete ' + Math.random());
      await store.deleteBlob(digest);
      assert.equal(await store.hasBlob(digest), false);
      const kept = await store.putBlob('kept ' + Math.random());
      if (store.missingBlobs) assert.deepEqual(await store.missingBlobs([kept, missing, digest]), [missing, digest]);
    });

    test('documents round-trip, overwrite, list and delete, with awkward ids', async () => {
      const ids = ['plain', 'train[fold=2]', 'a/b:c d', sha256('x'), '.hidden', 'ünïcode'];
      for (const [i, id] of ids.entries()) await store.putDoc('contract-docs', id, { i, nested: { id } });
      for (const [i, id] of ids.entries()) assert.deepEqual(await store.getDoc('contract-docs', id), { i, nested: { id } });
      await store.putDoc('contract-docs', 'plain', { replaced: true });
      assert.deepEqual(await store.getDoc('contract-docs', 'plain'), { replaced: true });
      assert.deepEqual((await collect(store.listDocIds('contract-docs'))).sort(), [...ids].sort());
      await store.deleteDoc('contract-docs', 'plain');
      assert.equal(await store.getDoc('contract-docs', 'plain'), undefined);
      assert.equal(await store.getDoc('contract-docs-none', 'x'), undefined);
      assert.deepEqual(await collect(store.listDocIds('contract-docs-none')), []);
    });

    test('concurrent writers of the same blob and document never tear them', async () => {
      const payload = 'x'.repeat(100_000);
      const digests = await Promise.all(Array.from({ length: 8 }, () => store.putBlob(payload)));
      assert.equal(new Set(digests).size, 1);
      assert.equal((await store.getBlob(digests[0])).toString(), payload);
      await Promise.all(Array.from({ length: 8 }, (_, i) => store.putDoc('contract-race', 'doc', { i, payload })));
      const doc = await store.getDoc<{ i: number; payload: string }>('contract-race', 'doc');
      assert.equal(doc?.payload, payload);
    });
  });
}
