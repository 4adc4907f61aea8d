import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, REPO } from '../support/workspace.ts';
import { writeDemoSet } from '../../src/ops/dicom/demo-set.ts';
import { FsStore } from '../../src/store/fs-store.ts';
import { Collections } from '../../src/store/store.ts';
import { loadArtifact, readRows } from '../../src/engine/artifact.ts';
import type { LatestEntry } from '../../src/engine/cache-key.ts';

test('experiments/vinbig.yaml plans and runs on a small synthetic VinBig-shaped folder (3 readers per image, boxes)', { timeout: 900_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-vinbig-'));
  // The VinBig layout: a DICOM folder and a train.csv with image_id,class_name,class_id,rad_id,x_min,... (3 readers)
  await mkdir(join(dir, 'train'));
  const set = await writeDemoSet({ patients: 16, seed: 5, size: 128 }, (name, bytes) => writeFile(join(dir, 'train', name), bytes));
  await writeFile(join(dir, 'train.csv'), set.labelsCsv);
  await writeFile(
    join(dir, 'vinbig-small.yaml'),
    [
      'name: vinbig-small',
      `extends: ${JSON.stringify(join(REPO, 'experiments/vinbig.yaml'))}`,
      'params:',
      `  images: ${JSON.stringify(join(dir, 'train'))}`,
      `  labels: ${JSON.stringify(join(dir, 'train.csv'))}`,
      '  glob: "**/*.dcm"',
      '  size: 64',
      '  input: 64',
      '  folds: 2',
      '  test: 0.25',
      '  epochs: 1',
      '  batch: 8',
      '  width: 0.25',
      '',
    ].join('\n'),
  );
  const file = join(dir, 'vinbig-small.yaml');
  const env = { PIPELINE_SALT: 'test-salt' };
  const plan = await runCli(['plan', file, '--store', join(dir, 'store')], dir, { env });
  assert.equal(plan.code, 0, plan.stderr.slice(-3000));
  for (const id of ['ingest', 'convert', 'readers', 'split', 'train[fold=0]', 'train[fold=1]', 'tta']) assert.match(plan.stdout, new RegExp(`${id.replace(/[[\]]/g, '\\$&')}.*will run`), plan.stdout);

  const run = await runCli(['run', file, '--store', join(dir, 'store')], dir, { env });
  assert.equal(run.code, 0, run.stderr.slice(-3000) + run.stdout.slice(-3000));
  const store = await FsStore.open(join(dir, 'store'));
  const latest = async (instance: string) => (await loadArtifact(store, (await store.getDoc<LatestEntry>(Collections.latest, `vinbig-small/${instance}`))!.artifact))!;
  const readers = await latest('readers');
  const fused = readers.meta.fuse_readers as { boxes_before: number; boxes_after: number };
  assert.ok(fused.boxes_after > 0 && fused.boxes_after < fused.boxes_before, `3 readers' boxes fused: ${JSON.stringify(fused)}`);
  const model = await latest('train[fold=0]');
  assert.equal(model.meta.task, 'detection');
  const tta = await latest('tta');
  assert.equal(tta.meta.task, 'detection');
  const rows = await readRows<{ boxes?: unknown[]; truth_boxes?: unknown[] }>(store, tta);
  assert.ok(rows.length > 0 && rows.every((r) => Array.isArray(r.boxes) && Array.isArray(r.truth_boxes)));
});
