import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { execFileSync } from 'node:child_process';
import { sha256 } from '../../src/util/hash.ts';
import { DEBIAN_PYTHON } from '../ops/dicom/python.ts';
import { runStage, tempStore } from '../../src/testing/harness.ts';
import { ingestImages } from '../../src/stages/ingest-images.ts';
import type { DatasetRow } from '../../src/data-model.ts';
import { NIH_FIXTURES } from '../support/fixtures.ts';
import { needs } from '../support/reference-tools.ts';

const NIH = NIH_FIXTURES;

test('ingest-images on real NIH X-rays: labels, splits, patients from the file name, grey PNGs', async () => {
  const store = await tempStore();
  const r = await runStage(ingestImages, {
    store,
    params: {
      source: NIH,
      labels: { path: `${NIH}/labels.csv`, path_column: 'image', label_column: 'label_name', split_column: 'split' },
      patient_pattern: '_(\\d{8})_\\d{3}\\.png$',
    },
    concurrency: 4,
  });
  const rows = await r.rows<DatasetRow & { source_channels: number; bits: number }>();
  // What the labels file says about the images present (the fixture holds 124 of the 1,000 it lists).
  const present = new Set(readdirSync(join(NIH, 'images')).map((f) => `images/${f}`));
  const csv = readFileSync(join(NIH, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')).filter(([image]) => present.has(image));
  assert.equal(csv.length, 124);
  assert.equal(rows.length, csv.length);
  const count = (f: (x: DatasetRow) => boolean) => rows.filter(f).length;
  assert.equal(count((x) => x.labels![0] === 'abnormal'), csv.filter((c) => c[3] === 'abnormal').length);
  assert.equal(count((x) => x.split === 'train'), csv.filter((c) => c[2] === 'train').length);
  assert.equal(count((x) => x.split === 'test'), csv.filter((c) => c[2] === 'test').length);
  assert.deepEqual(r.artifact.meta.classes, ['abnormal', 'normal']);
  assert.deepEqual((r.artifact.meta.summary as any), { files: 124, ingested: 124, failed: 0, unlabeled: 0, without_patient: 0, label_entries_without_image: 876 }); // the labels list 1,000 images, the fixture holds 124
  // NIH ids 00000073_000 ... 00000073_004 are one patient; the fixture has four of its images.
  const same = rows.filter((x) => String(x.path).includes('_00000073_'));
  assert.equal(same.length, 4);
  assert.equal(new Set(same.map((x) => x.patient)).size, 1);
  assert.ok(new Set(rows.map((x) => x.patient)).size < rows.length);
  // The inputs are RGB; stored images are 1-channel 8-bit PNGs of the same size.
  assert.equal(rows[0].source_channels, 3);
  const meta = await sharp(await store.getBlob(rows[0].image!)).metadata();
  assert.deepEqual([meta.format, meta.channels, meta.width, meta.height], ['png', 1, 64, 64]);
});

test('ingest-images: 16-bit grey kept as-is, JPEG to grey, folder-per-class labels, bad file skipped', { skip: needs('opencv', 'numpy') }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ingest-images-'));
  await mkdir(join(dir, 'cat'));
  await mkdir(join(dir, 'dog'));
  // A real 16-bit grey PNG written by OpenCV (Debian python), values 0..60000.
  execFileSync(DEBIAN_PYTHON, ['-c', 'import sys, numpy as np, cv2; cv2.imwrite(sys.argv[1], (np.arange(16, dtype=np.uint16) * 4000).reshape(4, 4))', join(dir, 'cat', 'a.png')]);
  const png16 = await readFile(join(dir, 'cat', 'a.png'));
  const jpg = await sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 200, g: 100, b: 50 } } }).jpeg().toBuffer();
  await writeFile(join(dir, 'dog', 'b.jpg'), jpg);
  await writeFile(join(dir, 'dog', 'broken.png'), 'not a png');
  const r = await runStage(ingestImages, { params: { source: dir, labels: { format: 'folders' } } });
  const rows = await r.rows<DatasetRow & { bits: number; source_format: string }>();
  assert.deepEqual(rows.map((x) => [x.id, x.labels, x.width, x.height, x.bits, x.source_format]), [
    ['a', ['cat'], 4, 4, 16, 'png'],
    ['b', ['dog'], 8, 6, 8, 'jpeg'],
  ]);
  assert.equal(rows[0].image, sha256(png16), 'a grey PNG is stored byte for byte');
  const b = await sharp(await r.store.getBlob(rows[1].image!)).metadata();
  assert.equal(b.channels, 1);
  assert.match((r.artifact.meta.failed as any[])[0].reason, /not a readable image/);
  assert.equal((r.artifact.meta.failed as any[])[0].path, 'dog/broken.png');
  assert.ok(r.logs.some((l) => l.includes('3 images have no patient id') || l.includes('2 images have no patient id')));
});

test('ingest-images reads TIFF: 16-bit grey kept to the value, RGB to grey, 32-bit float refused with its reason', { skip: needs('opencv', 'numpy') }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ingest-images-tiff-'));
  execFileSync(DEBIAN_PYTHON, ['-c', `
import sys, os, numpy as np, cv2
d = sys.argv[1]
cv2.imwrite(os.path.join(d, 'g16.tif'), (np.arange(16, dtype=np.uint16) * 4000).reshape(4, 4))
cv2.imwrite(os.path.join(d, 'rgb.TIFF'), np.dstack([np.full((4, 6), c, np.uint8) for c in (50, 100, 200)]))
cv2.imwrite(os.path.join(d, 'f32.tif'), np.full((4, 4), 0.5, np.float32))
`, dir]);
  const r = await runStage(ingestImages, { params: { source: dir } });
  const rows = await r.rows<DatasetRow & { bits: number; source_format: string; source_channels: number }>();
  assert.deepEqual(rows.map((x) => [x.id, x.width, x.height, x.bits, x.source_format, x.source_channels]), [
    ['g16', 4, 4, 16, 'tiff', 1],
    ['rgb', 6, 4, 8, 'tiff', 3],
  ]);
  const stored = await r.store.getBlob(rows[0].image!);
  assert.deepEqual(await sharp(stored).metadata().then((m) => [m.format, m.channels, m.depth]), ['png', 1, 'ushort']);
  const { data } = await sharp(stored).toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
  assert.deepEqual(Array.from(new Uint16Array(data.buffer, data.byteOffset, 16)), Array.from({ length: 16 }, (_, i) => i * 4000));
  assert.equal((await sharp(await r.store.getBlob(rows[1].image!)).metadata()).channels, 1);
  assert.deepEqual(r.artifact.meta.failed, [{ path: 'f32.tif', reason: 'unsupported sample format float (tiff): 8- and 16-bit unsigned images only; convert it first (e.g. to a 16-bit PNG)' }]);
});

test('folders under train/ val/ test/ (the ImageFolder layout): the first folder is the split, the next the class', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ingest-images-splits-'));
  const png = await sharp(Buffer.alloc(16, 90), { raw: { width: 4, height: 4, channels: 1 } }).png().toBuffer();
  for (const [i, rel] of ['train/NORMAL', 'train/PNEUMONIA', 'Valid/NORMAL', 'test/PNEUMONIA', 'extra'].entries()) {
    await mkdir(join(dir, rel), { recursive: true });
    await writeFile(join(dir, rel, `im${i}.png`), png);
  }
  // A class folder named like a part holds its images directly: it stays a class.
  await writeFile(join(dir, 'train', 'im9.png'), png);
  const r = await runStage(ingestImages, { params: { source: dir, labels: { format: 'folders' } } });
  const rows = await r.rows<DatasetRow>();
  assert.deepEqual(rows.map((x) => [x.id, x.labels, x.split ?? null]), [
    ['im2', ['NORMAL'], 'val'],
    ['im4', ['extra'], null],
    ['im3', ['PNEUMONIA'], 'test'],
    ['im0', ['NORMAL'], 'train'],
    ['im1', ['PNEUMONIA'], 'train'],
    ['im9', ['train'], null],
  ]);
  assert.deepEqual(r.artifact.meta.classes, ['NORMAL', 'PNEUMONIA', 'extra', 'train']);
  assert.ok(r.logs.includes('info: folders: the first folder is the split (train 2, val 1, test 1 images; column split), the next one the class'), r.logs.join('\n'));
});

test('ingest-images colour: rgb keeps colour inputs as 8-bit RGB PNGs (grey inputs stay grey); the default makes them grey', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ingest-images-rgb-'));
  await writeFile(join(dir, 'smear.png'), await sharp({ create: { width: 6, height: 4, channels: 3, background: { r: 200, g: 40, b: 120 } } }).png().toBuffer());
  const grey = await sharp(Buffer.alloc(25, 90), { raw: { width: 5, height: 5, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  await writeFile(join(dir, 'xray.png'), grey);
  const pixels = async (params: object) => {
    const r = await runStage(ingestImages, { params: { source: dir, ...params } });
    const rows = await r.rows<DatasetRow>();
    return Promise.all(rows.map(async (row) => {
      const png = await r.store.getBlob(row.image!);
      const { channels } = await sharp(png).metadata();
      const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      return { id: row.id, channels, first: [...data.subarray(0, channels === 1 ? 1 : info.channels)], image: row.image };
    }));
  };
  const rgb = await pixels({ colour: 'rgb' });
  assert.deepEqual(rgb.map((x) => [x.id, x.channels, x.first]), [['smear', 3, [200, 40, 120]], ['xray', 1, [90]]]);
  assert.equal(rgb[1].image, sha256(grey), 'a grey PNG is stored byte for byte');
  const greyRows = await pixels({});
  assert.deepEqual(greyRows.map((x) => [x.id, x.channels]), [['smear', 1], ['xray', 1]]);
});
