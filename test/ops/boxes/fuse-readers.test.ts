import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuseReaderBoxes } from '../../../src/ops/boxes/fuse-readers.ts';
import { fuseReaders } from '../../../src/stages/fuse-readers.ts';
import { runStage, tempStore } from '../../../src/testing/harness.ts';

test('readers\' boxes fused with WBF: overlapping boxes of one label average, others stay, min_readers filters', async () => {
  const boxes = [
    { label: 'Nodule', reader: 'R1', x_min: 10, y_min: 10, x_max: 20, y_max: 20 },
    { label: 'Nodule', reader: 'R2', x_min: 12, y_min: 10, x_max: 22, y_max: 20 }, // IoU with R1's = 80/120 = .67
    { label: 'Nodule', reader: 'R3', x_min: 50, y_min: 50, x_max: 60, y_max: 60 },
    { label: 'Effusion', reader: 'R2', x_min: 10, y_min: 10, x_max: 20, y_max: 20 },
  ];
  const fused = fuseReaderBoxes(boxes, { iouThr: 0.4, minReaders: 1 });
  const nodules = fused.filter((b) => b.label === 'Nodule').sort((a, b) => a.x_min - b.x_min);
  assert.deepEqual(nodules.map((b) => [b.x_min, b.x_max, b.readers]), [[11, 21, 2], [50, 60, 1]]);
  assert.equal(fused.filter((b) => b.label === 'Effusion').length, 1);
  assert.deepEqual(fuseReaderBoxes(boxes, { iouThr: 0.4, minReaders: 2 }).map((b) => b.label), ['Nodule']);
  assert.equal(fuseReaderBoxes(boxes, { iouThr: 0.7, minReaders: 1 }).filter((b) => b.label === 'Nodule').length, 3, 'IoU .67 is not > .7');

  const store = await tempStore();
  const rows = [{ id: 'a', boxes }, { id: 'b', labels: ['No finding'] }];
  const out = await runStage(fuseReaders, { store, params: {}, inputs: [{ artifact: { kind: 'dataset', rows, meta: {} } }] });
  const got = await out.rows<{ id: string; boxes?: unknown[] }>();
  assert.equal(got[0].boxes!.length, 3);
  assert.equal(got[1].boxes, undefined);
  const kept = await runStage(fuseReaders, { store, params: { method: 'keep' }, inputs: [{ artifact: { kind: 'dataset', rows, meta: {} } }] });
  assert.equal((await kept.rows<{ boxes?: unknown[] }>())[0].boxes!.length, 4);
});
