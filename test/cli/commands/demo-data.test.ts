import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoDataCommand } from '../../../src/cli/commands/demo-data.ts';
import { parseCsv } from '../../../src/ops/labels/csv.ts';
import { UsageError } from '../../../src/cli/args.ts';

test('pipeline demo-data DIR writes DICOMs and a VinBigData labels.csv, deterministic for a seed', async () => {
  const a = await mkdtemp(join(tmpdir(), 'demo-data-'));
  const b = await mkdtemp(join(tmpdir(), 'demo-data-'));
  const log = console.log;
  console.log = () => {};
  try {
    assert.equal(await demoDataCommand.run([a, '--patients', '4', '--seed', '9', '--size', '32']), 0);
    assert.equal(await demoDataCommand.run([b, '--patients', '4', '--seed', '9', '--size', '32']), 0);
  } finally {
    console.log = log;
  }
  const files = (await readdir(a)).sort();
  assert.deepEqual(files, (await readdir(b)).sort());
  const dicoms = files.filter((f) => f.endsWith('.dcm'));
  assert.ok(dicoms.length >= 4 && dicoms.length <= 12);
  for (const f of dicoms) assert.deepEqual(await readFile(join(a, f)), await readFile(join(b, f)));
  const { header, rows } = parseCsv(await readFile(join(a, 'labels.csv'), 'utf8'));
  assert.deepEqual(header, ['image_id', 'class_name', 'class_id', 'rad_id', 'x_min', 'y_min', 'x_max', 'y_max']);
  assert.deepEqual(new Set(rows.map((r) => `${r.image_id}.dcm`)), new Set(dicoms));
  for (const r of rows) {
    const ids: Record<string, string> = { Cardiomegaly: '3', 'Nodule/Mass': '8', 'Pleural effusion': '10', 'No finding': '14' };
    assert.equal(r.class_id, ids[r.class_name]);
    assert.equal(r.x_min === '', r.class_name === 'No finding');
  }
  // Each image is read by exactly 3 radiologists.
  for (const id of new Set(rows.map((r) => r.image_id))) assert.equal(new Set(rows.filter((r) => r.image_id === id).map((r) => r.rad_id)).size, 3);
  // --lesions: disc lesions with exact boxes, one reader, for detection demos.
  const c = await mkdtemp(join(tmpdir(), 'demo-data-'));
  console.log = () => {};
  try {
    assert.equal(await demoDataCommand.run([c, '--patients', '4', '--seed', '9', '--size', '64', '--lesions', '3']), 0);
  } finally {
    console.log = log;
  }
  const lesionRows = parseCsv(await readFile(join(c, 'labels.csv'), 'utf8')).rows;
  assert.deepEqual(new Set(lesionRows.map((r) => r.class_name)), new Set(['Nodule/Mass', 'No finding']));
  assert.ok(lesionRows.filter((r) => r.class_name === 'Nodule/Mass').every((r) => Number(r.x_max) > Number(r.x_min) && Number(r.x_max) <= 64));
  await assert.rejects(demoDataCommand.run([c, '--lesions', '11']), /--lesions must be at most 10/);
  await assert.rejects(demoDataCommand.run([a, '--size', '8']), UsageError);
  await assert.rejects(demoDataCommand.run([a, '--seed', 'x']), /--seed must be an integer/);
});
