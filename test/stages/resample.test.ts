import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runStage } from '../../src/testing/harness.ts';
import { kfold } from '../../src/stages/kfold.ts';
import { undersample } from '../../src/stages/undersample.ts';
import { oversample } from '../../src/stages/oversample.ts';
import { classWeightsStage } from '../../src/stages/class-weights.ts';
import { holdout } from '../../src/stages/holdout.ts';
import { testRows, trainingRows, validationRows } from '../../src/ops/splits/fold-parts.ts';
import type { DatasetRow } from '../../src/data-model.ts';
import { nihRows } from './nih-rows.ts';

async function folded() {
  const run = await runStage(kfold, { inputs: [{ artifact: { kind: 'dataset', rows: nihRows(), meta: { classes: ['Finding', 'No finding'] } } }], params: { k: 5, test: 0.2 } });
  return { artifact: run.artifact, rows: await run.rows<DatasetRow>(), store: run.store };
}

const ids = (rows: DatasetRow[]) => rows.map((r) => r.id);
const count = (rows: DatasetRow[], label: string) => rows.filter((r) => r.labels?.includes(label)).length;

test('undersample drops a share of one class from each fold\'s training part only; validation and test untouched', async () => {
  const before = await folded();
  const run = await runStage(undersample, { store: before.store, inputs: [{ artifact: before.artifact }], params: { label: 'No finding', keep: 0.3, seed: 1 } });
  const after = await run.rows<DatasetRow>();
  assert.deepEqual(after.map((r) => r.image), before.rows.map((r) => r.image), 'rows and image digests pass through');
  assert.deepEqual(testRows(after), testRows(before.rows), 'test rows unchanged, column for column');
  for (let f = 0; f < 5; f++) {
    assert.deepEqual(ids(validationRows(after, f)), ids(validationRows(before.rows, f)), `fold ${f} validation unchanged`);
    const tb = trainingRows(before.rows, f), ta = trainingRows(after, f);
    assert.equal(count(ta, 'No finding'), Math.round(0.3 * count(tb, 'No finding')), `fold ${f}`);
    assert.equal(count(ta, 'Finding'), count(tb, 'Finding'), 'other classes kept');
  }
  for (const r of after) {
    for (const f of (r.exclude_train_folds as number[] | undefined) ?? []) {
      assert.ok(r.split !== 'test' && r.fold !== f, `row ${r.id} excluded from a fold it validates`);
    }
  }
  const again = await runStage(undersample, { store: before.store, inputs: [{ artifact: before.artifact }], params: { label: 'No finding', keep: 0.3, seed: 1 } });
  assert.equal(again.artifact.digest, run.artifact.digest, 'seeded');
  await assert.rejects(runStage(undersample, { params: { label: 'x', keep: 0.3, count: 4 } }), /exactly one of keep, count, ratio/);
});

test('undersample after holdout removes training rows only; ratio rule', async () => {
  const h = await runStage(holdout, { inputs: [{ artifact: { kind: 'dataset', rows: nihRows() } }] });
  const rows = await h.rows<DatasetRow>();
  const run = await runStage(undersample, { store: h.store, inputs: [{ artifact: h.artifact }], params: { label: 'No finding', ratio: 0.5 } });
  const after = await run.rows<DatasetRow>();
  assert.deepEqual(ids(validationRows(after)), ids(validationRows(rows)));
  assert.deepEqual(ids(testRows(after)), ids(testRows(rows)));
  const train = trainingRows(after);
  assert.equal(count(train, 'No finding'), Math.round(0.5 * count(trainingRows(rows), 'Finding')));
});

test('oversample sets repeat on training rows; validation parts still use each row once; test untouched', async () => {
  const before = await folded();
  const run = await runStage(oversample, { store: before.store, inputs: [{ artifact: before.artifact }], params: { label: 'Finding', times: 3 } });
  const after = await run.rows<DatasetRow>();
  assert.deepEqual(testRows(after), testRows(before.rows));
  for (let f = 0; f < 5; f++) {
    assert.deepEqual(ids(validationRows(after, f)), ids(validationRows(before.rows, f)));
    const tb = trainingRows(before.rows, f), ta = trainingRows(after, f);
    assert.equal(count(ta, 'Finding'), 3 * count(tb, 'Finding'));
    assert.equal(count(ta, 'No finding'), count(tb, 'No finding'));
  }
});

test('class-weights: inverse frequency and effective number, normalised to the class count, rows passed through', async () => {
  const rows = [
    ...Array.from({ length: 10 }, (_, i) => ({ id: `a${i}`, labels: ['a'], image: 'f'.repeat(64) })),
    ...Array.from({ length: 30 }, (_, i) => ({ id: `b${i}`, labels: ['b'] })),
    { id: 't1', labels: ['a'], split: 'test' }, // test rows are not counted
  ];
  const input = { artifact: { kind: 'dataset' as const, rows, meta: { classes: ['a', 'b'] } } };
  const inv = await runStage(classWeightsStage, { inputs: [input] });
  assert.deepEqual(inv.artifact.meta.class_weights, { a: 1.5, b: 0.5 });
  assert.deepEqual(await inv.rows(), rows);
  const eff = await runStage(classWeightsStage, { inputs: [input], params: { method: 'effective', beta: 0.9 } });
  const w = eff.artifact.meta.class_weights as Record<string, number>;
  assert.ok(Math.abs(w.a - 1.1903670174393364) < 1e-12 && Math.abs(w.b - 0.8096329825606635) < 1e-12, JSON.stringify(w));
  const def = await runStage(classWeightsStage, { inputs: [input], params: { method: 'effective' } });
  const d = def.artifact.meta.class_weights as Record<string, number>;
  // beta .9999: close to inverse frequency for small counts, still summing to 2
  assert.ok(Math.abs(d.a + d.b - 2) < 1e-12 && d.a > 1.49 && d.a < 1.5, JSON.stringify(d));
});
