import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, REPO } from '../support/workspace.ts';
import { FsStore } from '../../src/store/fs-store.ts';
import { Collections } from '../../src/store/store.ts';
import { loadArtifact, readArtifactFile, readRows } from '../../src/engine/artifact.ts';
import type { LatestEntry } from '../../src/engine/cache-key.ts';
import type { Box, DatasetRow } from '../../src/data-model.ts';

// experiments/bccd.yaml as written (VOC ingest with the dataset's split lists, RGB, detector, TTA, evaluate), on
// the four BCCD images in test/fixtures/bccd and a tiny detector: the flow, not the number (the full run on the
// shared BCCD data is in docs/detection.md).
test('experiments/bccd.yaml runs on the BCCD fixture images: VOC boxes, train/val lists, RGB detector, val map_50 and a report with drawn boxes', { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-bccd-'));
  const file = join(dir, 'bccd-small.yaml');
  const params = { data: join(REPO, 'test/fixtures/bccd'), model: 'csp-nano', size: 64, height: 64, epochs: 1, batch: 2 };
  await writeFile(file, [`name: bccd-small`, `extends: ${JSON.stringify(join(REPO, 'experiments/bccd.yaml'))}`, `params: ${JSON.stringify(params)}`, 'stages:', '  train: { with: { width: 0.25, detection: { neck_channels: 16 } } }', '  evaluate: { with: { bootstrap: { n: 20 } } }', ''].join('\n'));
  const run = await runCli(['run', file, '--store', join(dir, 'store'), '--no-lock'], dir);
  assert.equal(run.code, 0, run.stderr.slice(-3000) + run.stdout.slice(-3000));
  assert.match(run.stdout, /map_50 [\d.]+ \[[\d.]+, [\d.]+\]/);

  const store = await FsStore.open(join(dir, 'store'));
  const latest = async (instance: string) => (await loadArtifact(store, (await store.getDoc<LatestEntry>(Collections.latest, `bccd-small/${instance}`))!.artifact))!;
  const rows = await readRows<DatasetRow>(store, await latest('ingest'));
  assert.deepEqual(rows.map((r) => [r.id, r.split]).sort(), [['BloodImage_00000', 'val'], ['BloodImage_00001', 'train'], ['BloodImage_00338', 'val'], ['BloodImage_00343', 'train']]);
  const model = await latest('train');
  assert.deepEqual([model.meta.channels, model.meta.classes], [3, ['Platelets', 'RBC', 'WBC']]);
  const predictions = await readRows<{ id: string; boxes: Box[]; width: number; height: number }>(store, await latest('tta'));
  assert.deepEqual(predictions.map((r) => [r.id, r.width, r.height]).sort(), [['BloodImage_00000', 640, 480], ['BloodImage_00338', 640, 480]]);
  const evaluate = await latest('evaluate');
  const metrics = evaluate.meta.metrics as Record<string, number>;
  for (const name of ['map_50', 'map_40', 'coco_map']) assert.ok(metrics[name] >= 0 && metrics[name] <= 1, `${name} ${metrics[name]}`);
  const html = (await readArtifactFile(store, evaluate, 'report.html')).toString('utf8');
  assert.match(html, /<h2>Gallery: predicted and true boxes<\/h2>/);
  assert.match(html, /<rect class="box" [^>]*stroke="#(2ca02c|e377c2)"/, 'truth boxes drawn');
  // no ImageSets/Main/test.txt: no test rows, nothing predicted or evaluated on test
  const skipped = await latest('evaluate_test');
  assert.deepEqual(skipped.meta.metrics, {});
  assert.match(String(skipped.meta.skipped), /no rows in the "test" part/);
});

test('experiments/bccd.yaml with ImageSets/Main/test.txt: the held-out images are predicted and evaluate_test scores them, apart from val', { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-bccd-test-'));
  const data = join(dir, 'bccd');
  await cp(join(REPO, 'test/fixtures/bccd'), data, { recursive: true });
  await writeFile(join(data, 'ImageSets/Main/val.txt'), 'BloodImage_00000\n');
  await writeFile(join(data, 'ImageSets/Main/test.txt'), 'BloodImage_00338\n');
  const file = join(dir, 'bccd-small.yaml');
  const params = { data, model: 'csp-nano', size: 64, height: 64, epochs: 1, batch: 2 };
  const small = '  evaluate: { with: { bootstrap: { n: 20 } } }\n  evaluate_test: { with: { bootstrap: { n: 20 } } }';
  await writeFile(file, [`name: bccd-small`, `extends: ${JSON.stringify(join(REPO, 'experiments/bccd.yaml'))}`, `params: ${JSON.stringify(params)}`, 'stages:', '  train: { with: { width: 0.25, detection: { neck_channels: 16 } } }', small, ''].join('\n'));
  const run = await runCli(['run', file, '--store', join(dir, 'store'), '--no-lock'], dir);
  assert.equal(run.code, 0, run.stderr.slice(-3000) + run.stdout.slice(-3000));
  assert.match(run.stdout, /evaluate_test: .*map_50 [\d.]+/);

  const store = await FsStore.open(join(dir, 'store'));
  const latest = async (instance: string) => (await loadArtifact(store, (await store.getDoc<LatestEntry>(Collections.latest, `bccd-small/${instance}`))!.artifact))!;
  const rows = await readRows<DatasetRow>(store, await latest('ingest'));
  assert.deepEqual(rows.map((r) => [r.id, r.split]).sort(), [['BloodImage_00000', 'val'], ['BloodImage_00001', 'train'], ['BloodImage_00338', 'test'], ['BloodImage_00343', 'train']]);
  const predictions = await readRows<{ id: string; split: string }>(store, await latest('tta'));
  assert.deepEqual(predictions.map((r) => [r.id, r.split]).sort(), [['BloodImage_00000', 'val'], ['BloodImage_00338', 'test']]);
  const [val, held] = [await latest('evaluate'), await latest('evaluate_test')];
  assert.deepEqual([val.meta.split, val.meta.rows, held.meta.split, held.meta.rows], ['val', 1, 'test', 1]);
  for (const name of ['map_50', 'map_40', 'coco_map']) assert.ok((held.meta.metrics as Record<string, number>)[name] >= 0, name);
});
