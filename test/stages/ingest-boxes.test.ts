import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { runStage } from '../../src/testing/harness.ts';
import { ingestImages } from '../../src/stages/ingest-images.ts';
import { ingestDicom } from '../../src/stages/ingest-dicom.ts';
import { syntheticDicom } from '../../src/stages/synthetic-dicom.ts';
import type { DatasetRow } from '../../src/data-model.ts';

const BCCD_SAMPLE = fileURLToPath(new URL('../fixtures/bccd/', import.meta.url));
/** The whole BCCD train/val set (VOC layout), when BCCD_DIR names it. */
const BCCD = process.env.BCCD_DIR;
const corners = (boxes: DatasetRow['boxes']) => boxes!.map((b) => [b.x_min, b.y_min, b.x_max, b.y_max]);

test('ingest-images + Pascal VOC on the BCCD sample: boxes in pixel edges, split lists, the degenerate boxes reported and counted', async () => {
  const r = await runStage(ingestImages, {
    params: {
      source: `${BCCD_SAMPLE}JPEGImages`,
      labels: `${BCCD_SAMPLE}Annotations`,
      split_lists: { train: `${BCCD_SAMPLE}ImageSets/Main/train.txt`, val: `${BCCD_SAMPLE}ImageSets/Main/val.txt` },
    },
  });
  const rows = await r.rows<DatasetRow>();
  assert.deepEqual(rows.map((x) => [x.id, x.split, x.width, x.height, x.boxes!.length]), [
    ['BloodImage_00000', 'val', 640, 480, 20],
    ['BloodImage_00001', 'train', 640, 480, 19],
    ['BloodImage_00338', 'val', 640, 480, 13],
    ['BloodImage_00343', 'train', 640, 480, 11],
  ]);
  assert.deepEqual(rows[0].labels, ['RBC', 'WBC']);
  assert.deepEqual(r.artifact.meta.classes, ['Platelets', 'RBC', 'WBC']);
  assert.equal(r.artifact.meta.label_format, 'voc');
  // VOC 1-based inclusive 260..491 -> [259, 491); 555..640 touches the right edge exactly (not out of the image).
  assert.deepEqual(corners(rows[0].boxes).slice(0, 1), [[259, 176, 491, 376]]);
  assert.ok(rows.every((x) => x.boxes!.every((b) => b.x_min >= 0 && b.x_max <= 640 && b.y_max <= 480 && !('at' in b))));
  const summary = r.artifact.meta.summary as any;
  assert.deepEqual(summary.boxes, { kept: 63, clipped: 0, dropped: 2, malformed: 0, degenerate: 2, out_of_image: 0, unknown_class: 0, size_mismatch: 0 });
  assert.deepEqual((r.artifact.meta.box_issues as any[]).map((i) => [i.kind, i.at, i.image]), [
    ['degenerate', 'BloodImage_00338.xml:158 (object 13)', 'BloodImage_00338'],
    ['degenerate', 'BloodImage_00343.xml:50 (object 4)', 'BloodImage_00343'],
  ]);
  assert.ok(r.logs.some((l) => l.startsWith('warn: BloodImage_00338.xml:158 (object 13): degenerate box (xmin 504 xmax 504 ymin 337 ymax 337: width 0 as written) [image BloodImage_00338] -> dropped')));
  // degenerate: fail stops the ingest with the located message.
  await assert.rejects(
    runStage(ingestImages, { params: { source: `${BCCD_SAMPLE}JPEGImages`, labels: `${BCCD_SAMPLE}Annotations`, bad_boxes: { degenerate: 'fail' } } }),
    /BloodImage_00338.xml:158 \(object 13\): degenerate box/,
  );
});

test('split_lists: an optional list that is not there gives no rows of its split (logged); present, it splits; a required one fails', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-split-lists-'));
  const lists = (test: string) => ({ train: `${BCCD_SAMPLE}ImageSets/Main/train.txt`, val: join(dir, 'val.txt'), test: { path: test, optional: true } });
  await writeFile(join(dir, 'val.txt'), 'BloodImage_00000\n');
  const params = (test: string) => ({ source: `${BCCD_SAMPLE}JPEGImages`, labels: `${BCCD_SAMPLE}Annotations`, split_lists: lists(test) });
  const without = await runStage(ingestImages, { params: params(join(dir, 'test.txt')) });
  assert.deepEqual((await without.rows<DatasetRow>()).map((x) => [x.id, x.split ?? null]), [
    ['BloodImage_00000', 'val'],
    ['BloodImage_00001', 'train'],
    ['BloodImage_00338', null],
    ['BloodImage_00343', 'train'],
  ]);
  assert.ok(without.logs.some((l) => l.includes(`split_lists.test: ${join(dir, 'test.txt')} is not there (optional): no test rows from it`)), without.logs.join('\n'));
  // An id whose image is missing (not copied, misnamed) is not dropped silently.
  await writeFile(join(dir, 'test.txt'), 'BloodImage_00338\nBloodImage_09999\n');
  const withTest = await runStage(ingestImages, { params: params(join(dir, 'test.txt')) });
  assert.deepEqual((await withTest.rows<DatasetRow>()).map((x) => x.split), ['val', 'train', 'test', 'train']);
  assert.ok(withTest.logs.includes(`warn: split_lists.test: 1 listed image(s) not among the ingested images (missing, unreadable or named otherwise), left out of test: BloodImage_09999 (${join(dir, 'test.txt')}:2)`), withTest.logs.join('\n'));
  assert.equal((withTest.artifact.meta.summary as any).split_list_ids_without_image, 1);
  // An image in a split list but in no labels file is unlabelled (warned, counted), not "labelled with no boxes".
  const annotations = join(dir, 'Annotations');
  await mkdir(annotations);
  for (const id of ['BloodImage_00001', 'BloodImage_00338', 'BloodImage_00343']) await copyFile(`${BCCD_SAMPLE}Annotations/${id}.xml`, join(annotations, `${id}.xml`));
  const missingXml = await runStage(ingestImages, { params: { ...params(join(dir, 'test.txt')), labels: annotations } });
  assert.equal((missingXml.artifact.meta.summary as any).unlabeled, 1);
  assert.ok(missingXml.logs.includes(`warn: 1 image(s) have no entry in ${annotations}: BloodImage_00000; they get no labels and no boxes`), missingXml.logs.join('\n'));
  // None of them labelled (the wrong folder): refused, as without split lists.
  const empty = join(dir, 'empty');
  await mkdir(empty);
  await copyFile(`${BCCD_SAMPLE}Annotations/BloodImage_00001.xml`, join(empty, 'Other_1.xml'));
  await assert.rejects(runStage(ingestImages, { params: { ...params(join(dir, 'test.txt')), labels: { path: empty, format: 'voc' } } }), /matches none of the 4 images/);
  await assert.rejects(runStage(ingestImages, { params: { ...params(join(dir, 'test.txt')), split_lists: { ...lists(join(dir, 'test.txt')), val: join(dir, 'missing.txt') } } }), /split_lists.val: .*missing.txt cannot be read/);
  await assert.rejects(runStage(ingestImages, { params: { ...params(join(dir, 'test.txt')), split_lists: { ...lists(join(dir, 'test.txt')), val: { path: join(dir, 'missing.txt') } } } }), /split_lists.val: .*missing.txt cannot be read/);
});

test('ingest-images on the whole BCCD train/val set: 292 images, 3943 boxes, exactly the two degenerate ones dropped', async (t) => {
  if (!BCCD || !existsSync(`${BCCD}/Annotations`)) return t.skip('set BCCD_DIR to the BCCD dataset folder (JPEGImages, Annotations, ImageSets) to run this test; the four-image sample above always runs');
  const r = await runStage(ingestImages, {
    params: { source: `${BCCD}/JPEGImages`, labels: { path: `${BCCD}/Annotations`, format: 'voc' }, split_lists: { train: `${BCCD}/ImageSets/Main/train.txt`, val: `${BCCD}/ImageSets/Main/val.txt` } },
    concurrency: 4,
  });
  const rows = await r.rows<DatasetRow>();
  assert.equal(rows.length, 292);
  assert.equal(rows.filter((x) => x.split === 'train').length, 205);
  assert.equal(rows.filter((x) => x.split === 'val').length, 87);
  const count = (label: string) => rows.reduce((s, x) => s + x.boxes!.filter((b) => b.label === label).length, 0);
  // README: RBC 3,350, WBC 301, Platelets 292 boxes; both degenerate boxes are RBCs.
  assert.deepEqual([count('RBC'), count('WBC'), count('Platelets')], [3348, 301, 292]);
  const summary = r.artifact.meta.summary as any;
  assert.equal(summary.boxes.degenerate, 2);
  assert.equal(summary.boxes.kept, 3941);
  assert.equal(summary.unlabeled, 0);
});

async function tinyImages(dir: string, names: string[], width = 100, height = 50): Promise<void> {
  for (const name of names) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await sharp({ create: { width, height, channels: 3, background: { r: 90, g: 90, b: 90 } } }).png().toFile(join(dir, name));
  }
}

test('ingest-images: COCO JSON and YOLO folders join by file name / path; two sources stay apart by reader; unmatched entries counted', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ingest-boxes-'));
  await tinyImages(join(dir, 'images'), ['train/a.png', 'train/b.png', 'val/c.png']);
  await writeFile(
    join(dir, 'coco.json'),
    JSON.stringify({
      images: [{ id: 1, file_name: 'train/a.png', width: 100, height: 50 }, { id: 2, file_name: 'val/c.png', width: 100, height: 50 }, { id: 3, file_name: 'gone.png' }],
      categories: [{ id: 1, name: 'cell' }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [10, 10, 20, 20] }, { id: 2, image_id: 2, category_id: 1, bbox: [90, 40, 20, 20] }],
    }),
  );
  await mkdir(join(dir, 'labels', 'train'), { recursive: true });
  await writeFile(join(dir, 'labels', 'classes.txt'), 'cell\n');
  await writeFile(join(dir, 'labels', 'train', 'a.txt'), '0 0.2 0.4 0.2 0.4\n');
  await writeFile(join(dir, 'labels', 'train', 'b.txt'), '');
  const r = await runStage(ingestImages, {
    params: {
      source: join(dir, 'images'),
      labels: [
        { path: join(dir, 'coco.json'), reader: 'coco' },
        { path: join(dir, 'labels'), format: 'yolo', reader: 'yolo' },
      ],
    },
  });
  const rows = await r.rows<DatasetRow>();
  const byId = new Map(rows.map((x) => [x.id, x]));
  assert.deepEqual(byId.get('a')!.boxes, [
    { label: 'cell', x_min: 10, y_min: 10, x_max: 30, y_max: 30, reader: 'coco' },
    { label: 'cell', x_min: 10, y_min: 10, x_max: 30, y_max: 30, reader: 'yolo' },
  ]);
  assert.deepEqual(byId.get('b')!.labels, []); // an empty YOLO file: labelled, no objects
  assert.equal(byId.get('b')!.boxes, undefined);
  assert.deepEqual(corners(byId.get('c')!.boxes), [[90, 40, 100, 50]]); // clipped to the 100x50 image
  assert.equal(r.artifact.meta.label_format, 'coco+yolo');
  assert.deepEqual(r.artifact.meta.classes, ['cell']);
  const summary = r.artifact.meta.summary as any;
  assert.equal(summary.unlabeled, 0);
  assert.equal(summary.label_entries_without_image, 1); // gone.png
  assert.deepEqual([summary.boxes.kept, summary.boxes.clipped, summary.boxes.out_of_image], [3, 1, 1]);
  assert.ok(r.logs.some((l) => l.includes('1 label entries match no ingested image')));
  // YOLO without names: a clear error naming the fix.
  await writeFile(join(dir, 'labels', 'classes.txt'), '');
  await assert.rejects(runStage(ingestImages, { params: { source: join(dir, 'images'), labels: { path: join(dir, 'labels'), format: 'yolo' } } }), /lists no class names/);
});

test('ingest-dicom: the synthetic VinBig labels keep their readers; known classes drop the others as unknown_class', async () => {
  const synth = await runStage(syntheticDicom, { params: { patients: 4, seed: 3, size: 64 } });
  const r = await runStage(ingestDicom, { store: synth.store, inputs: [{ artifact: synth.artifact, name: 'synth' }], params: { classes: ['Nodule/Mass'] } });
  const rows = await r.rows<DatasetRow>();
  const readers = new Set(rows.flatMap((x) => (x.boxes ?? []).map((b) => b.reader)));
  assert.ok(readers.size >= 3, `readers ${[...readers]}`);
  assert.ok(rows.every((x) => (x.boxes ?? []).every((b) => b.label === 'Nodule/Mass')));
  const summary = r.artifact.meta.summary as any;
  assert.ok(summary.boxes.unknown_class > 0);
  assert.equal(r.artifact.meta.classes && (r.artifact.meta.classes as string[])[0], 'Nodule/Mass');
});
