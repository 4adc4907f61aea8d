import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { GridFSBucket, MongoClient } from 'mongodb';
import { describeStoreContract } from './store-contract.ts';
import { MongoWireDouble } from './mongo-wire-double.ts';
import { GridFsStore } from '../../src/store/gridfs-store.ts';
import { sha256 } from '../../src/util/hash.ts';

// 1) Against a real MongoDB when MONGODB_URL is set (infra/mongodb/compose.yaml starts one).
const url = process.env.MONGODB_URL;
if (url) {
  const dbUrl = (name: string) => {
    const u = new URL(url);
    u.pathname = `/${name}`;
    return u.toString();
  };
  describeStoreContract('gridfs (MongoDB at MONGODB_URL)', () => GridFsStore.open(dbUrl(`pipeline_contract_${Date.now()}`)));
} else {
  test('GridFS store against a real MongoDB', { skip: 'MONGODB_URL is not set (e.g. MONGODB_URL=mongodb://127.0.0.1:27017 after docker compose -f infra/mongodb/compose.yaml up -d)' }, () => {});
}

// 2) Always: against an in-memory server speaking the MongoDB wire protocol subset the driver uses.
const double = new MongoWireDouble();
const doubleUrl = await double.start();
after(() => double.stop());
describeStoreContract('gridfs (wire-protocol double)', () => GridFsStore.open(doubleUrl));

test('an upload without its commit record is invisible, and orphan clean-up removes it', async () => {
  const store = await GridFsStore.open(doubleUrl);
  const client = await new MongoClient(doubleUrl).connect();
  try {
    // Simulate a crash after the GridFS upload but before the blob_index insert.
    const bucket = new GridFSBucket(client.db('pipeline_test'), { bucketName: 'blobs' });
    const payload = Buffer.from('half-committed ' + Date.now());
    await new Promise<void>((resolve, reject) => bucket.openUploadStream('upload/crash/1').on('finish', () => resolve()).on('error', reject).end(payload));
    const digest = sha256(payload);
    assert.equal(await store.hasBlob(digest), false);
    await assert.rejects(store.getBlob(digest), /not in the store/);
    // Committed blobs stay; the orphan goes.
    const kept = await store.putBlob('committed');
    assert.equal(await store.removeOrphanUploads(0), 1);
    assert.equal((await store.getBlob(kept)).toString(), 'committed');
    // A second put of the same bytes uploads nothing new.
    const filesBefore = double.docs('pipeline_test.blobs.files').length;
    await store.putBlob('committed');
    assert.equal(double.docs('pipeline_test.blobs.files').length, filesBefore);
    assert.ok(double.commands.includes('createIndexes'));
    assert.match(store.location, /^mongodb:\/\/127\.0\.0\.1:\d+\/pipeline_test/);
  } finally {
    await client.close();
    await store.close();
  }
});

test('a file whose chunks are deleted while it is read is never returned cut short (the driver ends such a download without an error)', async () => {
  // The state a reader meets when a writer replaces (or gc deletes) a file between the reader's lookup and its chunks.
  const store = await GridFsStore.open(doubleUrl);
  const client = await new MongoClient(doubleUrl).connect();
  try {
    const db = client.db('pipeline_test');
    const digest = await store.putBlob('x'.repeat(600_000));
    const { fileId } = (await db.collection<{ _id: string; fileId: unknown }>('blob_index').findOne({ _id: digest }))!;
    await db.collection('blobs.chunks').deleteMany({ files_id: fileId, n: { $gte: 1 } });
    await assert.rejects(store.getBlob(digest), /not in the store .*deleted while it was read/);
    await assert.rejects(new Promise((resolve, reject) => store.blobStream(digest).on('data', () => {}).on('end', resolve).on('error', reject)), /deleted while it was read/);

    await store.putDoc('torn', 'big', { payload: 'y'.repeat(9 * 1024 * 1024) });
    const { file } = (await db.collection<{ _id: string; file: unknown }>('docs.torn').findOne({ _id: 'big' }))!;
    await db.collection('large_docs.chunks').deleteMany({ files_id: file });
    await assert.rejects(store.getDoc('torn', 'big'), /document torn\/big: its file was replaced while read/);
    // An empty blob is whole (GridFS sends no file event for it).
    assert.equal((await store.getBlob(await store.putBlob(''))).length, 0);
  } finally {
    await client.close();
    await store.close();
  }
});
