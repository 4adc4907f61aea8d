import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, MongoServerError, type Collection } from 'mongodb';
import { MAX_BSON_OBJECT_SIZE, MongoWireDouble } from './mongo-wire-double.ts';

/**
 * The double rejects what a real MongoDB server rejects (codes and messages as the server's), and runs
 * commands from different connections concurrently. With MONGODB_URL set the same cases run against a
 * real server, which is how the double's answers were checked.
 */
const double = new MongoWireDouble({ seed: 7 });
let url: string;
let client: MongoClient;
let other: MongoClient;
let n = 0;
const collection = (c = client): Collection => c.db('double_test').collection(`c${n}`);

before(async () => {
  url = process.env.MONGODB_URL ?? (await double.start());
  client = await new MongoClient(url).connect();
  other = await new MongoClient(url).connect();
});
after(async () => {
  await client?.close();
  await other?.close();
  await double.stop();
});

const serverError = (code: number, message?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof MongoServerError || (err as { code?: number }).code !== undefined, `not a server error: ${err}`);
  assert.equal((err as { code?: number }).code, code, String(err));
  if (message) assert.match(String((err as Error).message), message);
  return true;
};

test('a document over 16 MiB is rejected (insert, replacement, update result); 16 MiB minus a little is stored', async () => {
  n++;
  const c = collection();
  const big = 'x'.repeat(MAX_BSON_OBJECT_SIZE);
  // The server's own words (a real server answers this for a 16 MiB string: its BSON size, here 16777244 bytes with _id "big").
  await assert.rejects(c.insertOne({ _id: 'big' as any, big }), serverError(2, /^object to insert too large\. size in bytes: 16777244, max size: 16777216$/));
  assert.equal(await c.countDocuments({ _id: 'big' as any }), 0);
  const fits = 'y'.repeat(MAX_BSON_OBJECT_SIZE - 100);
  await c.insertOne({ _id: 'fits' as any, fits });
  assert.equal(((await c.findOne({ _id: 'fits' as any })) as any).fits.length, fits.length);
  await assert.rejects(c.replaceOne({ _id: 'fits' as any }, { fits, more: 'z'.repeat(200) }), (err: any) => /too large|larger than/i.test(err.message));
  await assert.rejects(c.updateOne({ _id: 'fits' as any }, { $set: { more: 'z'.repeat(200) } }), serverError(17419, /Resulting document after update is larger than 16777216/));
});

test('_id is immutable: a replacement or $set that changes it fails with ImmutableField (66)', async () => {
  n++;
  const c = collection();
  await c.insertOne({ _id: 'a' as any, v: 1 });
  await assert.rejects(c.replaceOne({ _id: 'a' as any }, { _id: 'b', v: 2 } as any), serverError(66, /the \(immutable\) field '_id' was found to have been altered to _id: "b"/));
  await assert.rejects(c.updateOne({ _id: 'a' as any }, { $set: { _id: 'b' } } as any), serverError(66, /would modify the immutable field '_id'/));
  await assert.rejects(c.replaceOne({ _id: 'new' as any }, { _id: 'other', v: 3 } as any, { upsert: true }), serverError(66));
  await c.replaceOne({ _id: 'a' as any }, { _id: 'a', v: 4 } as any); // the same _id is fine
  assert.deepEqual(await c.find({}).toArray(), [{ _id: 'a', v: 4 }]);
});

test('ordered inserts stop at the first error; unordered ones write the rest', async () => {
  n++;
  const c = collection();
  const docs = () => [{ _id: 1 }, { _id: 2 }, { _id: 1 }, { _id: 3 }, { _id: 2 }, { _id: 4 }] as any[];
  const ordered = await c.insertMany(docs()).catch((e) => e);
  assert.equal(ordered.code, 11000);
  assert.deepEqual(ordered.writeErrors.map((e: any) => e.index), [2]);
  assert.deepEqual((await c.find({}).toArray()).map((d) => d._id), [1, 2], 'nothing after the failed document');
  n++;
  const u = collection();
  const unordered = await u.insertMany(docs(), { ordered: false }).catch((e) => e);
  assert.deepEqual(unordered.writeErrors.map((e: any) => e.index), [2, 4]);
  assert.deepEqual((await u.find({}).sort({ _id: 1 }).toArray()).map((d) => d._id), [1, 2, 3, 4]);
});

test('$group: known accumulators computed, an unknown one rejected (15952), never a silent 0', async () => {
  n++;
  const c = collection();
  await c.insertMany([{ k: 'a', v: 1 }, { k: 'a', v: 3 }, { k: 'b', v: 10 }, { k: 'b' }]);
  const rows = await c.aggregate([{ $group: { _id: '$k', total: { $sum: '$v' }, n: { $sum: 1 }, mean: { $avg: '$v' }, lo: { $min: '$v' }, hi: { $max: '$v' }, all: { $push: '$v' } } }]).toArray();
  assert.deepEqual(rows.sort((x, y) => String(x._id).localeCompare(String(y._id))), [
    { _id: 'a', total: 4, n: 2, mean: 2, lo: 1, hi: 3, all: [1, 3] },
    { _id: 'b', total: 10, n: 2, mean: 10, lo: 10, hi: 10, all: [10] },
  ]);
  assert.equal(await c.countDocuments({ k: 'a' }), 2);
  await assert.rejects(c.aggregate([{ $group: { _id: null, x: { $total: '$v' } } }]).toArray(), serverError(15952, /unknown group operator '\$total'/));
});

test('commands from different connections interleave, as on a server: a multi-document insert is seen half done', async (t) => {
  if (process.env.MONGODB_URL) return t.skip('timing-dependent against a real server');
  n++;
  const c = collection();
  const docs = Array.from({ length: 300 }, (_, i) => ({ _id: i }));
  const seen = new Set<number>();
  let done = false;
  const writing = c.insertMany(docs as any[]).then(() => void (done = true));
  while (!done) seen.add(await collection(other).countDocuments({}));
  await writing;
  assert.equal(await c.countDocuments({}), 300);
  assert.ok([...seen].some((k) => k > 0 && k < 300), `another connection only ever saw ${[...seen].join(', ')} documents: the insert was atomic`);
});
