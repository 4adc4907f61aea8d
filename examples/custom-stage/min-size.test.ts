import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runStage } from '@medpipe/pipeline/testing';
import minSize from './stages/min-size.ts';

test('min-size keeps only images at least as large as asked', async () => {
  const result = await runStage(minSize, {
    params: { min_width: 100 },
    inputs: [{ artifact: { kind: 'dataset', rows: [{ id: 'a', width: 50, height: 50 }, { id: 'b', width: 120, height: 130 }] } }],
  });
  assert.deepEqual((await result.rows()).map((r) => r.id), ['b']);
  assert.equal(result.artifact.meta.dropped, 1);
  assert.deepEqual(result.logs, ['info: kept 1 of 2 images']);
});
