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
import type { Box, DatasetRow } from '../../src/data-model.ts';
import { boxesToOriginal } from '../../src/ops/boxes/transform.ts';

// The smallest run that still goes through every stage of experiments/vinbig.yaml: 8 patients of 96 px DICOMs
// converted to 64 px (so predictions are mapped back to the DICOMs' pixels), 2 folds of one epoch. The detector
// learns nothing in one epoch: map_40 is checked to be present and a probability, not good (the train stage's
// overfit test proves learning).
test('experiments/vinbig.yaml plans and runs on a small synthetic VinBig-shaped folder: 3 readers fused, detector per fold, box TTA, WBF, map_40 in DICOM pixels', { timeout: 900_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-vinbig-'));
  await mkdir(join(dir, 'train'));
  const set = await writeDemoSet({ patients: 8, seed: 5, size: 96 }, (name, bytes) => writeFile(join(dir, 'train', name), bytes));
  await writeFile(join(dir, 'train.csv'), set.labelsCsv);
  const params = { images: join(dir, 'train'), labels: join(dir, 'train.csv'), glob: '**/*.dcm', size: 64, input: 64, folds: 2, test: 0.25, epochs: 1, batch: 8, width: 0.25 };
  await writeFile(
    join(dir, 'vinbig-small.yaml'),
    [
      'name: vinbig-small',
      `extends: ${JSON.stringify(join(REPO, 'experiments/vinbig.yaml'))}`,
      `params: ${JSON.stringify(params)}`,
      'stages:',
      '  evaluate: { with: { bootstrap: { n: 20 }, gallery: { per_group: 1 } } }',
      '',
    ].join('\n'),
  );
  const file = join(dir, 'vinbig-small.yaml');
  const env = { PIPELINE_SALT: 'test-salt' };
  const plan = await runCli(['plan', file, '--store', join(dir, 'store')], dir, { env });
  assert.equal(plan.code, 0, plan.stderr.slice(-3000));
  for (const id of ['ingest', 'convert', 'readers', 'split', 'train[fold=0]', 'train[fold=1]', 'tta', 'ensemble', 'evaluate', 'oof']) assert.match(plan.stdout, new RegExp(`${id.replace(/[[\]]/g, '\\$&')}.*will run`), plan.stdout);

  const run = await runCli(['run', file, '--store', join(dir, 'store'), '--no-lock'], dir, { env });
  assert.equal(run.code, 0, run.stderr.slice(-3000) + run.stdout.slice(-3000));
  assert.match(run.stdout, /evaluate: map_40 [\d.]+ \[[\d.]+, [\d.]+\]/);
  const store = await FsStore.open(join(dir, 'store'));
  const latest = async (instance: string) => (await loadArtifact(store, (await store.getDoc<LatestEntry>(Collections.latest, `vinbig-small/${instance}`))!.artifact))!;
  const readers = await latest('readers');
  const fused = readers.meta.fuse_readers as { boxes_before: number; boxes_after: number };
  assert.ok(fused.boxes_after > 0 && fused.boxes_after < fused.boxes_before, `3 readers' boxes fused: ${JSON.stringify(fused)}`);
  assert.equal((await latest('train[fold=0]')).meta.task, 'detection');

  // predictions and truth in the DICOMs' 96 px frame: the fused boxes of the 64 px rows mapped back through convert's step
  const split = new Map((await readRows<DatasetRow>(store, await latest('split'))).map((r) => [r.id, r]));
  const tta = await latest('tta');
  assert.equal(tta.meta.coordinates, 'original image pixels');
  const rows = await readRows<{ id: string; boxes: Box[]; truth_boxes: Box[]; width: number; height: number }>(store, tta);
  assert.ok(rows.length > 0 && rows.every((r) => Array.isArray(r.boxes) && r.width === 96 && r.height === 96));
  const mapped = rows.flatMap((r) => r.truth_boxes.map((t, i) => [t, boxesToOriginal(split.get(r.id)!.boxes!, split.get(r.id)!.geometry)[i]] as const));
  assert.ok(mapped.length > 0 && mapped.some(([t]) => t.x_max > 64), 'truth beyond the 64 px frame');
  for (const [t, want] of mapped) for (const k of ['x_min', 'y_min', 'x_max', 'y_max'] as const) assert.ok(Math.abs(t[k] - want[k]) < 1e-9);

  assert.equal((await latest('ensemble')).meta.task, 'detection');
  for (const stage of ['evaluate', 'oof']) {
    const metrics = (await latest(stage)).meta.metrics as Record<string, number>;
    for (const name of ['map_40', 'map_50', 'coco_map']) assert.ok(metrics[name] >= 0 && metrics[name] <= 1, `${stage} ${name} ${metrics[name]}`);
  }
});
