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

    test('concurrent writers of the same blob and document never tear them, and readers meanwhile see whole values', async () => {
      const payload = 'x'.repeat(100_000) + Math.random();
      const blobReads: string[] = [];
      let writing = true;
      const digest = sha256(payload);
      // A reader polling while 8 writers race: it sees "not in the store" or all the bytes, nothing else.
      const blobReader = (async () => {
        while (writing) blobReads.push(await store.getBlob(digest).then((b) => (b.toString() === payload ? 'whole' : `torn (${b.length} bytes)`), () => 'absent'));
      })();
      const digests = await Promise.all(Array.from({ length: 8 }, () => store.putBlob(payload)));
      writing = false;
      await blobReader;
      assert.equal(new Set(digests).size, 1);
      assert.equal((await store.getBlob(digests[0])).toString(), payload);
      assert.deepEqual([...new Set(blobReads)].filter((r) => r !== 'whole' && r !== 'absent'), []);

      // Overwrites of one document (small, and one too large for a MongoDB document): never torn or missing.
      const big = 'y'.repeat(9 * 1024 * 1024);
      await store.putDoc('contract-race', 'doc', { i: -1, payload });
      const docReads: string[] = [];
      writing = true;
      const docReader = (async () => {
        while (writing) {
          const d = await store.getDoc<{ i: number; payload: string }>('contract-race', 'doc');
          docReads.push(!d ? 'missing' : d.payload === payload || d.payload === big ? 'whole' : 'torn');
        }
      })();
      await Promise.all(Array.from({ length: 8 }, (_, i) => store.putDoc('contract-race', 'doc', { i, payload: i % 2 ? big : payload })));
      writing = false;
      await docReader;
      assert.deepEqual([...new Set(docReads)].filter((r) => r !== 'whole'), []);
      const doc = await store.getDoc<{ i: number; payload: string }>('contract-race', 'doc');
      assert.equal(doc?.payload, doc!.i % 2 ? big : payload);
    });

    test('a document larger than a MongoDB document may be (16 MiB) round-trips, overwrites and deletes', async () => {
      // E.g. the file-hash memo of a folder of ~150,000 DICOMs (one entry per file, ~115 bytes each).
      const memo = { path: '/data/train', entries: { 'train/000000.dcm': [524_288, 1_700_000_000_000, sha256('0')] }, padding: 'z'.repeat(17 * 1024 * 1024) };
      assert.ok(JSON.stringify(memo).length > 16 * 1024 * 1024);
      await store.putDoc('contract-large', 'memo', memo);
      assert.deepEqual(await store.getDoc('contract-large', 'memo'), memo);
      await store.putDoc('contract-large', 'memo', { small: true });
      assert.deepEqual(await store.getDoc('contract-large', 'memo'), { small: true });
      await store.putDoc('contract-large', 'memo', memo);
      await store.deleteDoc('contract-large', 'memo');
      assert.equal(await store.getDoc('contract-large', 'memo'), undefined);
      assert.deepEqual(await collect(store.listDocIds('contract-large')), []);
    });
  });
}
