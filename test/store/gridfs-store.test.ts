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
