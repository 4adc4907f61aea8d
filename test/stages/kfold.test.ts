import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runStage } from '../../src/testing/harness.ts';
import { kfold } from '../../src/stages/kfold.ts';
import { holdout } from '../../src/stages/holdout.ts';
import type { DatasetRow } from '../../src/data-model.ts';
import { nihRows } from './nih-rows.ts';

const dataset = () => ({ artifact: { kind: 'dataset' as const, rows: nihRows(), meta: { classes: ['Finding', 'No finding'] } } });

function patientsPerPart(rows: DatasetRow[], part: (r: DatasetRow) => string) {
  const seen = new Map<string, Set<string>>();
  for (const r of rows) seen.set(r.patient!, (seen.get(r.patient!) ?? new Set()).add(part(r)));
  return [...seen.values()].filter((s) => s.size > 1).length;
}

test('kfold on the real NIH rows: 5 folds + 20% test, no patient in two parts, LD and table reported', async () => {
  const run = await runStage(kfold, { inputs: [dataset()], params: { k: 5, test: 0.2, seed: 7 } });
  const rows = await run.rows<DatasetRow>();
  const input = nihRows();
  assert.equal(rows.length, 1000);
  assert.deepEqual(rows.map((r) => r.image), input.map((r) => r.image), 'image digests pass through');
  assert.deepEqual(run.artifact.files, {}, 'no new files: only the rows blob');
  assert.equal(patientsPerPart(rows, (r) => (r.split === 'test' ? 'test' : String(r.fold))), 0);
  const test = rows.filter((r) => r.split === 'test');
  assert.ok(test.every((r) => r.fold === undefined));
  assert.ok(Math.abs(test.length - 200) <= 10, `test part ${test.length}`);
  const split = run.artifact.meta.split as { parts: Array<{ part: string; images: number; labels: Record<string, number> }>; ld: number; ed: number };
  assert.equal(split.parts.length, 6);
  for (const p of split.parts.slice(0, 5)) assert.ok(Math.abs(p.labels['Finding'] - p.labels['No finding']) <= 6, `${p.part}: ${JSON.stringify(p.labels)}`);
  assert.ok(split.ld < 0.03, `LD ${split.ld}`);
  assert.ok(run.logs.some((l) => /LD 0\.\d+/.test(l) && l.includes('fold 4') && l.includes('patients')), run.logs.join('\n'));
  const again = await runStage(kfold, { inputs: [dataset()], params: { k: 5, test: 0.2, seed: 7 } });
  assert.equal(again.artifact.digest, run.artifact.digest, 'deterministic for a seed');
});

test('holdout: stratified fractions with patient grouping; column mode refuses the real file split that leaks patients', async () => {
  const run = await runStage(holdout, { inputs: [dataset()], params: { train: 0.7, val: 0.15, test: 0.15 } });
  const rows = await run.rows<DatasetRow>();
  assert.equal(patientsPerPart(rows, (r) => r.split!), 0);
  assert.ok(Math.abs(rows.filter((r) => r.split === 'val').length - 150) <= 10);
  // The uploader's split of NIH1000 puts 30 patients in two splits: column mode must fail loudly.
  await assert.rejects(runStage(holdout, { inputs: [dataset()], params: { mode: 'column', column: 'source_split' } }), /30 patient group\(s\) span several parts; e\.g\. images \d+_\d+/);
  // A clean column is taken as is ('valid' -> 'val').
  const clean = [
    { id: 'a', patient: 'p1', labels: ['x'], part: 'train' },
    { id: 'b', patient: 'p1', labels: ['y'], part: 'train' },
    { id: 'c', patient: 'p2', labels: ['x'], part: 'valid' },
    { id: 'd', patient: 'p3', labels: [], part: 'test' },
  ];
  const col = await runStage(holdout, { inputs: [{ artifact: { kind: 'dataset', rows: clean } }], params: { mode: 'column', column: 'part' } });
  assert.deepEqual((await col.rows<DatasetRow>()).map((r) => r.split), ['train', 'train', 'val', 'test']);
  await assert.rejects(
    runStage(holdout, { inputs: [{ artifact: { kind: 'dataset', rows: [{ id: 'z9', part: 'tran' }] } }], params: { mode: 'column', column: 'part' } }),
    /row z9: column "part" is "tran", not train \/ val \/ test/,
  );
  await assert.rejects(runStage(holdout, { params: { train: 0.5, val: 0.1, test: 0.1 } }), /train: train \+ val \+ test must sum to 1/);
});
