import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { workspace } from '../support/workspace.ts';
import { FsStore } from '../../src/store/fs-store.ts';
import { GridFsStore } from '../../src/store/gridfs-store.ts';
import { Collections, type Store } from '../../src/store/store.ts';
import { loadArtifact, missingBlobs } from '../../src/engine/artifact.ts';
import type { CacheEntry } from '../../src/engine/cache-key.ts';
import { MongoWireDouble } from '../store/mongo-wire-double.ts';
import { runStage } from '../../src/testing/harness.ts';
import { ingestDicom } from '../../src/stages/ingest-dicom.ts';
import type { DatasetRow } from '../../src/data-model.ts';
import { DICOM_FIXTURES } from '../support/fixtures.ts';

// Issue 14 item 4: pipeline push / pull between stores, resumable, verified; run --remote reads through.
const yaml = (files: number) => `
name: remote-test
stages:
  source: { uses: $FIXTURES/source.ts, with: { n: 3 } }
  double: { uses: $FIXTURES/count.ts, from: source, with: { log: p.log } }
  bulk: { uses: $FIXTURES/many-files.ts, with: { n: ${files}, size: 256 } }
  train: { uses: $FIXTURES/sleep.ts, from: double, foreach: { fold: "range(2)" }, with: { ms: 1, log: t.log } }
`;

/** Every cache entry of a store names a complete output: the commit rule the transfer must keep. */
async function assertNoPartialRecord(store: Store): Promise<number> {
  let entries = 0;
  for await (const key of store.listDocIds(Collections.cache)) {
    const entry = (await store.getDoc<CacheEntry>(Collections.cache, key))!;
    const artifact = await loadArtifact(store, entry.artifact);
    assert.ok(artifact, `cache entry ${key} names a missing artifact`);
    assert.deepEqual(await missingBlobs(store, artifact), [], `cache entry ${key} names missing blobs`);
    if (entry.items) {
      assert.ok(await store.hasBlob(entry.items));
      for (const item of (await store.getBlob(entry.items)).toString().split('\n').filter(Boolean)) assert.ok(await store.getDoc(Collections.items, item), `item ${item} of ${key} missing`);
    }
    entries++;
  }
  return entries;
}

async function blobCount(root: string): Promise<number> {
  let n = 0;
  for (const shard of await readdir(join(root, 'blobs')).catch(() => [])) n += (await readdir(join(root, 'blobs', shard))).length;
  return n;
}

async function colleague(files: Record<string, string>) {
  return workspace('', files);
}

test('pipeline.config.yaml remotes: validated and located, names resolved, credentials never shown', async () => {
  const ws = await workspace(yaml(3));
  const config = (text: string) => writeFile(join(ws.dir, 'pipeline.config.yaml'), text);
  await config('remotes:\n  team: ./shared\n  bad name: /x\ndefault_remote: tem\n');
  const bad = await ws.cli(['push', '--remote', 'team']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /pipeline\.config\.yaml:3:3: error: remote name "bad name": names start with a letter/);
  await config('remotes:\n  team: ./shared\ndefault_remote: tem\n');
  assert.match((await ws.cli(['push'])).stderr, /pipeline\.config\.yaml:3:17: error: default_remote tem is not one of the remotes\n {2}hint: did you mean "team"\?/);
  await config('remotes:\n  team: ./shared\n  db: { url: "mongodb://pipeline:${env.SECRET_PW}@127.0.0.1:1/x?serverSelectionTimeoutMS=300" }\ndefault_remote: team\n');
  const unknown = await ws.cli(['push', '--remote', 'tem']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no remote named tem in .*pipeline\.config\.yaml; did you mean team\?/);
  const noEnv = await ws.cli(['push', '--remote', 'db']);
  assert.equal(noEnv.code, 2);
  assert.match(noEnv.stderr, /pipeline\.config\.yaml:3:\d+: error: environment variable SECRET_PW is not set/);
  // The default remote, relative to the config file; the password from the environment is never printed.
  assert.equal((await ws.cli(['run', 'exp.yaml'])).code, 0);
  const push = await runWithEnv(ws, ['push'], { SECRET_PW: 's3cr3t-pw' });
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stderr, /^push to team \(.*\/shared\): 5 stage output\(s\), the latest outputs in the store/);
  assert.ok((await blobCount(join(ws.dir, 'shared'))) > 0);
  const pull = await runWithEnv(ws, ['pull', 'exp.yaml', '--remote', 'db'], { SECRET_PW: 's3cr3t-pw' });
  assert.equal(pull.code, 1, pull.stderr);
  assert.match(pull.stderr, /ECONNREFUSED/);
  assert.doesNotMatch(pull.stdout + pull.stderr, /s3cr3t-pw/);
  const shown = await runWithEnv(ws, ['run', 'exp.yaml', '--remote', 'db', '--plain'], { SECRET_PW: 's3cr3t-pw' });
  assert.doesNotMatch(shown.stdout + shown.stderr, /s3cr3t-pw/);
});

async function runWithEnv(ws: Awaited<ReturnType<typeof workspace>>, args: string[], env: Record<string, string>) {
  const { runCli } = await import('../support/workspace.ts');
  return runCli(args, ws.dir, { env });
}

test('push and pull between two folder stores: only what is missing, then a colleague runs fully cached', async () => {
  const a = await workspace(yaml(20));
  assert.equal((await a.cli(['run', 'exp.yaml'])).code, 0);
  const remote = join(a.dir, 'remote');
  const push = await a.cli(['push', 'exp.yaml', '--remote', remote]);
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stdout, /pushed 5 stage output\(s\): \d+ blobs .*; 0 already there/);
  const again = await a.cli(['push', 'exp.yaml', '--remote', remote]);
  assert.match(again.stdout, /pushed 0 stage output\(s\): 0 blobs .*; 5 already there/);
  assert.equal(await assertNoPartialRecord(await FsStore.open(remote, { durable: false })), 5);

  // A colleague with the experiment and its lock (from git) and an empty store.
  const b = await colleague({});
  await copyFile(a.file, b.file);
  await copyFile(join(a.dir, 'pipeline.lock'), join(b.dir, 'pipeline.lock'));
  const status = await b.cli(['status', 'exp.yaml']);
  assert.match(status.stdout, /5 of 5 stage instances not up to date/);
  assert.match(status.stdout, /double\s+not in store/);
  const pull = await b.cli(['pull', 'exp.yaml', '--remote', remote, '--stage', 'double']);
  assert.equal(pull.code, 0, pull.stderr);
  assert.match(pull.stdout, /pulled 1 stage output\(s\)/);
  const all = await b.cli(['pull', 'exp.yaml', '--remote', remote]);
  assert.match(all.stdout, /pulled 4 stage output\(s\): .*; 1 already there\nrestored 5 locked stage output\(s\)/);
  assert.equal((await b.cli(['status', 'exp.yaml'])).stdout.trim(), 'pipeline.lock: 5 stage instances up to date');
  const run = await b.cli(['run', 'exp.yaml']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /succeeded \(5 cached\)/);
  assert.deepEqual(await b.lines('p.log'), [], 'nothing was recomputed');
  assert.equal((await b.cli(['export', 'exp.yaml', 'bulk', join(b.dir, 'out')])).code, 0);
  assert.equal((await readdir(join(b.dir, 'out', 'part'))).length, 20);
  // Per-item results came along: a new item is the only one the per-item stage processes.
  await b.write(yaml(20).replace('n: 3', 'n: 4'));
  assert.equal((await b.cli(['run', 'exp.yaml'])).code, 0);
  assert.deepEqual(await b.lines('p.log'), ['item3']);

  // Pulling what the remote does not have says so.
  const c = await colleague({});
  await c.write(yaml(20).replace('n: 3', 'n: 9'));
  const nothing = await c.cli(['pull', 'exp.yaml', '--remote', remote]);
  assert.equal(nothing.code, 0, nothing.stderr);
  assert.match(nothing.stdout, /no pipeline\.lock entry for exp\.yaml; pulled 1 stage output\(s\) a run would reuse, 0 were here already; not on the remote \(they will run\): source, double, train\[fold=0\], train\[fold=1\]/);
  assert.equal((await c.cli(['pull', 'exp.yaml', '--remote', join(c.dir, 'nowhere')])).code, 2);
});

test('push copies ingest-dicom\'s per-item results with its output: they hold pseudonymised UIDs, none of the originals', async () => {
  const ws = await workspace(`name: dicom-push\nstages:\n  ingest: { uses: ingest-dicom, with: { source: ${JSON.stringify(DICOM_FIXTURES)}, glob: "*.dcm" } }\n`);
  const run = await ws.cli(['run', 'exp.yaml']);
  assert.equal(run.code, 0, run.stderr);
  const remote = join(ws.dir, 'remote');
  const push = await ws.cli(['push', 'exp.yaml', '--remote', remote]);
  assert.equal(push.code, 0, push.stderr);
  const store = await FsStore.open(remote, { durable: false });
  assert.equal(await assertNoPartialRecord(store), 1);
  const items: string[] = [];
  for await (const id of store.listDocIds(Collections.items)) items.push(JSON.stringify(await store.getDoc(Collections.items, id)));
  // The original UIDs, read with the opt-out (the real sample files' UIDs embed their study dates).
  const kept = await runStage(ingestDicom, { params: { source: DICOM_FIXTURES, glob: '*.dcm', keep_original_patient_ids: true } });
  assert.equal(items.length, (kept.artifact.meta.summary as { files: number }).files, 'one per-item result per file');
  const originals = (await kept.rows<DatasetRow>()).flatMap((r) => [r.sop, r.study, r.series].filter((u): u is string => !!u));
  assert.ok(originals.length >= 3 * 15);
  const text = items.join('\n');
  assert.ok(text.includes('"sopInstanceUid":"2.25.'), 'the pseudonyms are there');
  for (const uid of originals) assert.ok(!text.includes(uid), `${uid} pushed in a per-item result`);
});

test('an interrupted push (process killed) leaves no partial record on the remote; the next push completes it', async () => {
  const files = 4000;
  const a = await workspace(yaml(files));
  assert.equal((await a.cli(['run', 'exp.yaml'])).code, 0);
  const remote = join(a.dir, 'remote');
  let seen = 0;
  const killed = await a.cli(['push', 'exp.yaml', '--remote', remote, '--jobs', '2'], {
    poll: async (child) => {
      seen = await blobCount(remote);
      if (seen >= 200 && child.exitCode === null) child.kill('SIGKILL');
    },
  });
  assert.equal(killed.signal, 'SIGKILL', `the push finished before it could be killed (${seen} blobs seen): make the test's output larger`);
  const remoteStore = await FsStore.open(remote, { durable: false });
  const partial = await blobCount(remote);
  assert.ok(partial >= 200 && partial < files, `killed part way: ${partial} of ${files} blobs`);
  await assertNoPartialRecord(remoteStore);
  let artifacts = 0;
  for await (const _ of remoteStore.listDocIds(Collections.artifacts)) artifacts++;
  assert.equal(artifacts, 0, 'no manifest was written before all blobs were copied');

  const resumed = await a.cli(['push', 'exp.yaml', '--remote', remote]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const copied = Number(/pushed 5 stage output\(s\): (\d+) blobs/.exec(resumed.stdout)?.[1]);
  assert.ok(copied > 0 && copied <= files + 10 - partial, `the second push copied only what was missing: ${copied} blobs after ${partial}`);
  assert.equal(await assertNoPartialRecord(remoteStore), 5);

  const b = await colleague({});
  await copyFile(a.file, b.file);
  await copyFile(join(a.dir, 'pipeline.lock'), join(b.dir, 'pipeline.lock'));
  assert.equal((await b.cli(['pull', 'exp.yaml', '--remote', remote])).code, 0);
  assert.match((await b.cli(['run', 'exp.yaml'])).stdout, /succeeded \(5 cached\)/);
});

test('run --remote reads through: a colleague\'s pushed results are fetched, not recomputed; a corrupt blob is never pushed', async () => {
  const a = await workspace(yaml(5));
  assert.equal((await a.cli(['run', 'exp.yaml'])).code, 0);
  const remote = join(a.dir, 'remote');
  assert.equal((await a.cli(['push', '--remote', remote])).code, 0, 'without FILE: every latest output');
  const d = await colleague({});
  await copyFile(a.file, d.file);
  const run = await d.cli(['run', 'exp.yaml', '--remote', remote]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /succeeded \(5 cached\)/);
  assert.match(run.stderr, /double: pulled from .*remote \(\d+ blobs, [\d.]+ KB\) instead of running/);
  assert.deepEqual(await d.lines('p.log'), []);
  assert.deepEqual(await d.lines('t.log'), []);
  // Part of the experiment changed: what the remote has is reused, the rest runs.
  await d.write(yaml(5).replace('ms: 1', 'ms: 2'));
  const partly = await d.cli(['run', 'exp.yaml', '--remote', remote]);
  assert.match(partly.stdout, /train\[fold=0\]\s+ran/);
  assert.match(partly.stdout, /double\s+cached/);

  // A blob damaged on disk is refused by the push (digest check), and the remote gets no record of it.
  const e = await workspace(yaml(5).replace('n: 3', 'n: 7'));
  assert.equal((await e.cli(['run', 'exp.yaml', '--only', 'double'])).code, 0);
  const store = await FsStore.open(e.storeDir, { durable: false });
  const entry = await (async () => {
    for await (const key of store.listDocIds(Collections.cache)) {
      const c = (await store.getDoc<CacheEntry>(Collections.cache, key))!;
      if ((await loadArtifact(store, c.artifact))?.rows) return c;
    }
  })();
  const rows = (await loadArtifact(store, entry!.artifact))!.rows!;
  await writeFile(join(e.storeDir, 'blobs', rows.slice(0, 2), rows), 'tampered');
  const other = join(e.dir, 'remote2');
  const push = await e.cli(['push', 'exp.yaml', '--remote', other]);
  assert.equal(push.code, 1);
  assert.match(push.stderr, new RegExp(`error: blob ${rows} in .* is corrupt: its content hashes to [0-9a-f]{64}; not copied`));
  const remoteStore = await FsStore.open(other, { durable: false });
  assert.equal(await remoteStore.hasBlob(rows), false);
  await assertNoPartialRecord(remoteStore);
});

const double = new MongoWireDouble();
const doubleUrl = await double.start();
after(() => double.stop());
const real = process.env.MONGODB_URL;

for (const [name, url] of [['the MongoDB wire double', doubleUrl.replace('pipeline_test', 'pipeline_remote')], ...(real ? [['a real MongoDB (MONGODB_URL)', `${real.replace(/\/[^/?]*(\?|$)/, `/pipeline_remote_${Date.now()}$1`)}`]] : [])] as const) {
  test(`push to and pull from a GridFS remote: ${name}`, async () => {
    const a = await workspace(yaml(30));
    assert.equal((await a.cli(['run', 'exp.yaml'])).code, 0);
    await writeFile(join(a.dir, 'pipeline.config.yaml'), `remotes:\n  db: "${url}"\ndefault_remote: db\n`);
    const push = await a.cli(['push', 'exp.yaml']);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /pushed 5 stage output\(s\): \d+ blobs/);
    assert.match((await a.cli(['push', 'exp.yaml'])).stdout, /pushed 0 stage output\(s\).*5 already there/);
    const remote = await GridFsStore.open(url);
    try {
      assert.equal(await assertNoPartialRecord(remote), 5);
    } finally {
      await remote.close();
    }
    const b = await colleague({});
    await mkdir(b.dir, { recursive: true });
    await copyFile(a.file, b.file);
    await copyFile(join(a.dir, 'pipeline.lock'), join(b.dir, 'pipeline.lock'));
    const pull = await b.cli(['pull', 'exp.yaml', '--remote', url]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match((await b.cli(['run', 'exp.yaml'])).stdout, /succeeded \(5 cached\)/);
    assert.deepEqual(await b.lines('p.log'), []);
    // Read-through from the GridFS remote: no lock, no pull, nothing recomputed.
    const c = await colleague({});
    await copyFile(a.file, c.file);
    const run = await c.cli(['run', 'exp.yaml', '--remote', url]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /succeeded \(5 cached\)/);
    assert.match(run.stderr, /double: pulled from .* instead of running/);
    assert.deepEqual(await c.lines('p.log'), []);
    assert.deepEqual(await c.lines('t.log'), []);
  });
}
if (!real) test('push to and pull from a real MongoDB', { skip: 'MONGODB_URL is not set (e.g. MONGODB_URL=mongodb://127.0.0.1:27017 after docker compose -f infra/mongodb/compose.yaml up -d)' }, () => {});
