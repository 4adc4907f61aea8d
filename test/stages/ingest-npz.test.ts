import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { runStage } from '../../src/testing/harness.ts';
import { ingestImages } from '../../src/stages/ingest-images.ts';
import { trainStage } from '../../src/stages/train.ts';
import { MEDMNIST_LABELS } from '../../src/ops/npz/medmnist-names.ts';
import type { DatasetRow } from '../../src/data-model.ts';
import { NIH_FIXTURES } from '../support/fixtures.ts';
import { DEBIAN_PYTHON, needs } from '../support/reference-tools.ts';

type Written = Record<string, Record<string, string | number[][]>>;

const skip = needs('numpy', 'opencv');
let made: { dir: string; arrays: Written } | undefined;

/** The .npz files of test/stages/fixtures/write-npz.py (numpy's savez / savez_compressed), written once. */
async function npzFiles(): Promise<{ dir: string; arrays: Written }> {
  if (made) return made;
  const dir = await mkdtemp(join(tmpdir(), 'ingest-npz-'));
  const out = execFileSync(DEBIAN_PYTHON, [resolve(import.meta.dirname, 'fixtures/write-npz.py'), dir, NIH_FIXTURES], { encoding: 'utf8', maxBuffer: 64 << 20 });
  made = { dir, arrays: JSON.parse(out) as Written };
  return made;
}

async function ingest(file: string, extra: Record<string, unknown> = {}) {
  const { dir } = await npzFiles();
  return runStage(ingestImages, { params: { source: join(dir, file), ...extra } });
}

/** Every stored PNG decodes to numpy's bytes of that image; labels and splits follow the arrays. */
async function assertRoundTrip(file: string, names: readonly string[], channels: 1 | 3, extra: Record<string, unknown> = {}) {
  const { arrays } = await npzFiles();
  const r = await ingest(file, extra);
  const rows = await r.rows<DatasetRow>();
  const written = arrays[file];
  let checked = 0;
  for (const split of ['train', 'val', 'test'] as const) {
    const pixels = Buffer.from(written[`${split}_images`] as string, 'base64');
    const labels = written[`${split}_labels`] as number[][];
    const part = rows.filter((x) => x.split === split);
    assert.equal(part.length, labels.length, `${file} ${split}: one row per image`);
    for (const [i, row] of part.entries()) {
      const png = await r.store.getBlob(row.image!);
      const meta = await sharp(png).metadata();
      const { data, info } = await sharp(png).toColourspace(channels === 1 ? 'b-w' : 'srgb').raw().toBuffer({ resolveWithObject: true });
      assert.equal(meta.channels, channels, `${file} ${row.id}: stored PNG channels`);
      assert.deepEqual([info.width, info.height, info.channels], [28, 28, channels], `${file} ${row.id}: stored PNG geometry`);
      const size = 28 * 28 * channels;
      assert.ok(data.equals(pixels.subarray(i * size, (i + 1) * size)), `${file} ${row.id}: pixels equal numpy's`);
      const expected = labels[i].length === 1 ? [names[labels[i][0]]] : labels[i].flatMap((v, k) => (v === 1 ? [names[k]] : []));
      assert.deepEqual(row.labels, expected, `${file} ${row.id}: labels`);
      assert.equal(row.path, `${file}:${split}_images[${i}]`);
      checked++;
    }
  }
  assert.equal(checked, 14);
  assert.deepEqual(r.artifact.meta.classes, [...names]);
  return r;
}

test('ingest-images reads a MedMNIST .npz written by np.savez: grey, multi-class, pixel-exact, official split', { skip }, async () => {
  const r = await assertRoundTrip('grey-multiclass.npz', ['0', '1', '2'], 1);
  assert.equal(r.artifact.meta.task, 'multiclass');
  assert.equal(r.artifact.meta.label_kind, 'multiclass');
  assert.equal(r.artifact.meta.channels, 1);
  const progress = r.events.flatMap((e) => (e.type === 'progress' ? [[e.items.done, e.items.total]] : []));
  assert.deepEqual(progress.at(-1), [14, 14], `progress reported while storing the images: ${JSON.stringify(progress)}`);
  const rows = await r.rows<DatasetRow>();
  assert.deepEqual(rows.slice(0, 2).map((x) => [x.id, x.patient]), [['train_0', 'image:train_0'], ['train_1', 'image:train_1']], 'ids padded to the digits of the largest index (6)');
});

test('ingest-images reads np.savez_compressed (deflate): RGB multi-label kept as RGB with colour: rgb, names from labels.names', { skip }, async () => {
  const r = await assertRoundTrip('rgb-multilabel.npz', ['a', 'b', 'c'], 3, { colour: 'rgb', labels: { names: ['a', 'b', 'c'] } });
  assert.equal(r.artifact.meta.task, 'multilabel');
  assert.equal(r.artifact.meta.channels, 3);
  assert.equal((r.artifact.meta.summary as Record<string, number>).unlabeled, (await r.rows<DatasetRow>()).filter((x) => x.labels!.length === 0).length);
});

test('ingest-images .npz: the published MedMNIST names for a known file name (ChestMNIST multi-label, PneumoniaMNIST binary)', { skip }, async () => {
  const chest = await assertRoundTrip('chestmnist.npz', MEDMNIST_LABELS.chestmnist, 1);
  assert.equal(chest.artifact.meta.task, 'multilabel');
  assert.ok((await chest.rows<DatasetRow>()).some((x) => x.labels!.length === 0), 'a row without findings has no labels');
  const pneumonia = await assertRoundTrip('pneumoniamnist.npz', ['normal', 'pneumonia'], 1);
  assert.equal(pneumonia.artifact.meta.label_kind, 'binary');
  assert.equal(pneumonia.artifact.meta.task, 'multiclass', 'binary sets train as a 2-way softmax, as MedMNIST does (cross-entropy)');
});

test('ingest-images .npz: RGB images become grey (luminance) by default, with a warning', { skip }, async () => {
  const r = await ingest('rgb-multilabel.npz');
  const rows = await r.rows<DatasetRow>();
  const meta = await sharp(await r.store.getBlob(rows[0].image!)).metadata();
  assert.equal(meta.channels, 1);
  assert.equal(r.artifact.meta.channels, 1);
  assert.ok(r.logs.some((l) => l.startsWith('warn:') && l.includes('colour: rgb')));
});

test('train warns when an RGB archive (colour: rgb) trains with channels: 1, not with channels: 3', { skip }, async () => {
  const r = await ingest('rgb-multilabel.npz', { colour: 'rgb' });
  const rows = await r.rows<DatasetRow>();
  const inputs = [{ name: 'split', artifact: { kind: 'dataset' as const, rows, meta: r.artifact.meta } }];
  const params = { model: 'small-cnn', width: 0.25, size: 28, batch: 8, epochs: 1, seed: 1 };
  const grey = await runStage(trainStage, { store: r.store, params: { ...params, channels: 1 }, inputs });
  assert.ok(grey.logs.some((l) => l.startsWith('warn:') && l.includes('are RGB (meta.channels 3) but channels: 1')), grey.logs.join('\n'));
  const colour = await runStage(trainStage, { store: r.store, params: { ...params, channels: 3 }, inputs });
  assert.ok(!colour.logs.some((l) => l.includes('meta.channels 3')));
});

test('ingest-images .npz: malformed archives fail with the file, the key and the shape at fault', { skip }, async () => {
  const { dir } = await npzFiles();
  const cases: Array<[string, RegExp]> = [
    ['float-images.npz', /float-images\.npz: train_images: dtype f4, expected uint8/],
    ['count-mismatch.npz', /count-mismatch\.npz: val_labels: 2 labels for 3 images in val_images/],
    ['missing-labels.npz', /missing-labels\.npz: test_labels: missing, while test_images is there/],
    ['object-labels.npz', /object-labels\.npz: train_labels: dtype \|O is not supported/],
    ['multilabel-two.npz', /multilabel-two\.npz: test_labels: row 0 holds 2: a multi-label \(N x K\) array holds 0 or 1/],
    ['fortran.npz', /fortran\.npz: train_images: Fortran-order arrays are not supported/],
    ['no-medmnist-keys.npz', /no-medmnist-keys\.npz: archive: no train_images .* \(members: x\.npy, y\.npy\)/],
    ['wrong-shape.npz', /wrong-shape\.npz: train_images: shape \(7, 784\), expected N x H x W/],
  ];
  const good = await readFile(join(dir, 'grey-multiclass.npz'));
  const compressed = await readFile(join(dir, 'rgb-multilabel.npz'));
  const corrupt = Buffer.from(compressed);
  for (let i = 200; i < 1200; i++) corrupt[i] ^= 0x5a; // inside train_images' deflate stream
  await writeFile(join(dir, 'not-a-zip.npz'), 'just text, not an archive');
  await writeFile(join(dir, 'truncated.npz'), good.subarray(0, good.length >> 1));
  await writeFile(join(dir, 'corrupt.npz'), corrupt);
  cases.push(
    ['not-a-zip.npz', /not-a-zip\.npz: archive: no end-of-central-directory record in 25 bytes/],
    ['truncated.npz', /truncated\.npz: archive: no end-of-central-directory record/],
    ['corrupt.npz', /corrupt\.npz: train_images\.npy: (deflated data is corrupt|\d+ bytes after decompression)/],
  );
  for (const [file, message] of cases) {
    await assert.rejects(ingest(file), (err: Error) => {
      assert.equal(err.name, 'StageInputError', `${file}: ${err.message}`);
      assert.match(err.message, message);
      return true;
    });
  }
  await assert.rejects(ingest('grey-multiclass.npz', { labels: { names: ['only', 'two'] } }), /class index 2 occurs but only 2 class names are given/);
  await assert.rejects(ingest('grey-multiclass.npz', { labels: { path: 'labels.csv' } }), /an \.npz source carries its own labels/);
  await assert.rejects(ingest('grey-multiclass.npz', { classes: ['a'] }), /classes: not used with an \.npz source/);
  await assert.rejects(ingest('absent.npz'), /source .*absent\.npz cannot be read/);
});
