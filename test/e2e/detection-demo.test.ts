import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, REPO } from '../support/workspace.ts';
import { FsStore } from '../../src/store/fs-store.ts';
import { Collections } from '../../src/store/store.ts';
import { loadArtifact, readArtifactFile, readRows, type Artifact } from '../../src/engine/artifact.ts';
import type { LatestEntry } from '../../src/engine/cache-key.ts';
import type { DatasetRow } from '../../src/data-model.ts';

test('experiments/detection-demo.yaml: synthetic lesions -> detector per fold -> box TTA -> WBF -> detection metrics and a report with drawn boxes', { timeout: 900_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-det-demo-'));
  const file = join(dir, 'det-small.yaml');
  await writeFile(file, [`name: det-small`, `extends: ${JSON.stringify(join(REPO, 'experiments/detection-demo.yaml'))}`, 'params: { patients: 12, epochs: 1, size: 64 }', 'stages:', '  evaluate: { with: { bootstrap: { n: 50 } } }', ''].join('\n'));
  const run = await runCli(['run', file, '--store', join(dir, 'store')], dir);
  assert.equal(run.code, 0, run.stderr.slice(-3000) + run.stdout.slice(-3000));
  assert.match(run.stdout, /evaluate: map_40 [\d.]+ \[[\d.]+, [\d.]+\]/);

  const store = await FsStore.open(join(dir, 'store'));
  const latest = async (instance: string): Promise<Artifact> => (await loadArtifact(store, (await store.getDoc<LatestEntry>(Collections.latest, `det-small/${instance}`))!.artifact))!;
  // The generator's exact lesion boxes arrive in the split, scaled to 64 px.
  const split = await readRows<DatasetRow>(store, await latest('split'));
  const boxed = split.filter((r) => r.boxes?.length);
  assert.ok(boxed.length >= 5 && boxed.every((r) => r.boxes!.every((b) => b.label === 'Nodule/Mass' && b.x_max <= 64 && b.x_max > b.x_min)));
  assert.ok(split.some((r) => r.labels!.includes('No finding')));
  const ensemble = await latest('ensemble');
  assert.equal(ensemble.meta.task, 'detection');
  const evaluate = await latest('evaluate');
  const metrics = evaluate.meta.metrics as Record<string, number>;
  for (const name of ['map_40', 'map_50', 'coco_map', 'ap_50/Nodule/Mass', 'froc_mean']) assert.ok(metrics[name] >= 0 && metrics[name] <= 1, `${name} ${metrics[name]}`);
  const html = (await readArtifactFile(store, evaluate, 'report.html')).toString('utf8');
  assert.match(html, /<h2>Gallery: predicted and true boxes<\/h2>/);
  assert.match(html, /<rect class="box" [^>]*stroke="#(2ca02c|e377c2)"/, 'truth boxes drawn');
  assert.match(html, /<figcaption>froc\.svg<\/figcaption>/);
});
