import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { writeDemoSet } from '../../src/ops/dicom/demo-set.ts';
import { Collections } from '../../src/store/store.ts';
import { FsStore } from '../../src/store/fs-store.ts';
import { workspace } from '../support/workspace.ts';

const experiment = (source: string, labels?: string) => `
stages:
  ingest: { uses: ingest-dicom, with: { source: ${source}${labels ? `, labels: ${labels}` : ''} } }
`;

async function cacheEntries(storeDir: string): Promise<number> {
  const store = await FsStore.open(storeDir);
  let n = 0;
  for await (const _ of store.listDocIds(Collections.cache)) n++;
  return n;
}

test('an empty source folder fails at the source stage: exit 2, the path and what was expected, nothing cached', async () => {
  const ws = await workspace(experiment('scans'));
  await mkdir(join(ws.dir, 'scans'));
  const r = await ws.cli(['run', 'exp.yaml']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr + r.stdout, new RegExp(`source scans \\(${join(ws.dir, 'scans').replace(/[/.]/g, '\\$&')}\\) has no DICOM files matching \\*\\*/\\*: expected a folder \\(or glob\\) of DICOM files`));
  assert.equal(await cacheEntries(ws.storeDir), 0, 'the failure is not cached');
  // A folder of PNGs is no better, and the hint names the stage that reads them.
  await writeFile(join(ws.dir, 'scans', 'a.png'), 'png');
  const pngs = await ws.run();
  assert.equal(pngs.byId.ingest.status, 'failed');
  assert.match(pngs.byId.ingest.error!, /has 1 files but no DICOM files among them \(hint: .*uses: ingest-images\)/);
  // Once there are files, the stage runs (nothing stale was cached).
  await writeDemoSet({ patients: 2, seed: 3, size: 32 }, (name, bytes) => writeFile(join(ws.dir, 'scans', name), bytes));
  const ok = await ws.run();
  assert.equal(ok.byId.ingest.status, 'ran');
});

test('a labels file matching no image fails at the source: exit 2, both sides shown, not cached', async () => {
  const ws = await workspace(experiment('scans', 'labels.csv'));
  await mkdir(join(ws.dir, 'scans'));
  const set = await writeDemoSet({ patients: 2, seed: 4, size: 32 }, (name, bytes) => writeFile(join(ws.dir, 'scans', name), bytes));
  // The ids of another set: well-formed, but none is an image of this folder.
  const other = await writeDemoSet({ patients: 2, seed: 99, size: 32 }, async () => {});
  await writeFile(join(ws.dir, 'labels.csv'), other.labelsCsv);
  const r = await ws.cli(['run', 'exp.yaml']);
  assert.equal(r.code, 2, r.stderr);
  const out = r.stderr + r.stdout;
  assert.match(out, new RegExp(`labels file labels\\.csv matches none of the ${set.images} images: expected a row per image, keyed by its path, file name, file name without extension or SOPInstanceUID`));
  assert.match(out, /hint: the labels name "[^"]+", .*; the images are "[^"]+\.dcm"/);
  assert.equal(await cacheEntries(ws.storeDir), 0);
  await writeFile(join(ws.dir, 'labels.csv'), set.labelsCsv);
  assert.equal((await ws.run()).byId.ingest.status, 'ran');
});

test('warnings (skipped files) are printed once, and a cached rerun still shows them', async () => {
  const ws = await workspace(experiment('scans'));
  await mkdir(join(ws.dir, 'scans'));
  await writeDemoSet({ patients: 2, seed: 5, size: 32 }, (name, bytes) => writeFile(join(ws.dir, 'scans', name), bytes));
  await writeFile(join(ws.dir, 'scans', 'broken.dcm'), 'not a DICOM file at all'.repeat(10));
  const warnings = (run: Awaited<ReturnType<typeof ws.run>>) => run.events.flatMap((e) => (e.type === 'log' && e.level === 'warn' ? [e.message] : []));
  const first = await ws.run();
  assert.equal(first.byId.ingest.status, 'ran');
  assert.equal(warnings(first).filter((w) => w.includes('broken.dcm')).length, 1, warnings(first).join('\n'));
  const second = await ws.run();
  assert.equal(second.byId.ingest.status, 'cached');
  assert.deepEqual(warnings(second), ['cached output: 1 warning when it was made:', `  ${warnings(first).find((w) => w.includes('broken.dcm'))}`]);
  // Through the CLI, the cached rerun's output names the skipped file too.
  const cli = await ws.cli(['run', 'exp.yaml']);
  assert.equal(cli.code, 0);
  assert.match(cli.stderr, /ingest: warn: cached output: 1 warning when it was made:\n.*ingest: warn:   skipped item broken\.dcm: /);
});

test('a salt from the environment (PIPELINE_SALT) is part of the ingest key as a keyed hash, never as the value', async () => {
  const ws = await workspace(`
stages:
  ingest: { uses: ingest-dicom, with: { source: scans, pseudonymize: { salt_env: TEST_INGEST_KEY_SALT } } }
`);
  await mkdir(join(ws.dir, 'scans'));
  await writeDemoSet({ patients: 2, seed: 6, size: 32 }, (name, bytes) => writeFile(join(ws.dir, 'scans', name), bytes));
  const patients = async (run: Awaited<ReturnType<typeof ws.run>>) => {
    const store = await FsStore.open(ws.storeDir);
    const { loadArtifact, readRows } = await import('../../src/engine/artifact.ts');
    return (await readRows(store, (await loadArtifact(store, run.byId.ingest.artifact!))!)).map((r) => r.patient).sort();
  };
  const secrets = ['first-secret-salt-7f3a', 'second-secret-salt-91c2'];
  try {
    process.env.TEST_INGEST_KEY_SALT = secrets[0];
    const a = await ws.run();
    assert.equal(a.byId.ingest.status, 'ran');
    assert.equal((await ws.run()).byId.ingest.status, 'cached', 'same salt: cached');
    process.env.TEST_INGEST_KEY_SALT = secrets[1];
    assert.deepEqual((await ws.plan()).ingest, { action: 'run', reasons: ['environment variable TEST_INGEST_KEY_SALT changed'] });
    const b = await ws.run();
    assert.equal(b.byId.ingest.status, 'ran', 'a new salt reruns ingest');
    const [pa, pb] = [await patients(a), await patients(b)];
    assert.equal(pa.length, pb.length);
    assert.ok(pa.every((p) => !pb.includes(p)), 'and gives new pseudonyms');
    // The salts themselves are nowhere in the store (keys, cache entries, run records).
    for (const secret of secrets) {
      const grep = spawnSync('grep', ['-rl', '--binary-files=text', secret, ws.storeDir], { encoding: 'utf8' });
      assert.deepEqual([grep.status, grep.stdout], [1, ''], `the salt is stored in ${grep.stdout}`);
    }
  } finally {
    delete process.env.TEST_INGEST_KEY_SALT;
  }
});
