import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { LESION_KINDS, lesionAttenuation, lesionBox, placeLesions, type Lesion } from '../../../src/ops/dicom/phantom-lesions.ts';
import { PIXEL_SUBSAMPLES, phantomImages } from '../../../src/ops/dicom/phantom.ts';
import { parseCsv } from '../../../src/ops/labels/csv.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import { runStage } from '../../../src/testing/harness.ts';
import { syntheticDicom } from '../../../src/stages/synthetic-dicom.ts';
import { ingestDicom } from '../../../src/stages/ingest-dicom.ts';
import { convertStage } from '../../../src/stages/convert.ts';
import type { DatasetRow } from '../../../src/data-model.ts';

test('lesionBox is the tightest box around every pixel with a sample point in the disc (brute force on random discs)', () => {
  const rand = mulberry32(11);
  for (let k = 0; k < 200; k++) {
    const size = 32 + Math.floor(rand() * 100);
    const l: Lesion = { label: 'Nodule/Mass', cx: 0.2 + rand() * 0.6, cy: 0.2 + rand() * 0.6, r: (1 + rand() * 8) / size, amplitude: 0.4 };
    let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        if (!PIXEL_SUBSAMPLES.some(([dx, dy]) => (x + dx - l.cx * size) ** 2 + (y + dy - l.cy * size) ** 2 <= (l.r * size) ** 2 * (1 + 1e-12))) continue;
        [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
      }
    }
    const box = lesionBox(l, size, PIXEL_SUBSAMPLES);
    if (x1 < 0) assert.equal(box, undefined);
    else assert.deepEqual(box, { x_min: x0, y_min: y0, x_max: x1 + 1, y_max: y1 + 1 }, `disc ${JSON.stringify(l)} at ${size} px`);
  }
  assert.equal(lesionAttenuation([{ label: 'Calcification', cx: 0.5, cy: 0.5, r: 0.1, amplitude: 0.7 }], 0.5, 0.59), 0.7);
});

test('placeLesions: 0..max lesions inside the lungs, apart from each other, radius per class', () => {
  const lungs = [{ cx: 0.32, cy: 0.47, rx: 0.15, ry: 0.28 }, { cx: 0.68, cy: 0.47, rx: 0.15, ry: 0.28 }];
  const rand = mulberry32(2);
  const counts = new Set<number>();
  for (let k = 0; k < 200; k++) {
    const lesions = placeLesions(rand, lungs, 128, { max: 3, classes: ['Nodule/Mass', 'Calcification'], readers: 1, jitter: 0 });
    counts.add(lesions.length);
    for (const [i, l] of lesions.entries()) {
      const range = LESION_KINDS[l.label].radius;
      assert.ok(l.r >= range[0] - 1e-12 && l.r <= range[1] + 1e-12);
      assert.ok(lungs.some((g) => ((l.cx - g.cx) / (g.rx - l.r)) ** 2 + ((l.cy - g.cy) / (g.ry - l.r)) ** 2 <= 1 + 1e-9), 'inside a lung');
      for (const o of lesions.slice(i + 1)) assert.ok(Math.hypot(o.cx - l.cx, o.cy - l.cy) >= o.r + l.r + 2 / 128 - 1e-12);
    }
  }
  assert.deepEqual([...counts].sort(), [0, 1, 2, 3]);
});

test('phantom with lesions: exact boxes for every reader at jitter 0, jittered readers otherwise; other findings are not drawn', () => {
  const options = { patients: 12, seed: 4, size: 96, lesions: { max: 3, classes: ['Nodule/Mass', 'Calcification'] as const, readers: 2, jitter: 0 } };
  const images = [...phantomImages({ ...options, lesions: { ...options.lesions, classes: [...options.lesions.classes] } })];
  assert.ok(images.some((im) => im.findings.length === 0) && images.some((im) => im.findings.length >= 2));
  for (const im of images) {
    assert.ok(im.findings.every((f) => f.label === 'Nodule/Mass' || f.label === 'Calcification'));
    assert.equal(im.readings.length, im.findings.length * 2);
    im.readings.forEach((r, i) => assert.deepEqual(r.box, im.findings[Math.floor(i / 2)].box));
  }
  const jittered = [...phantomImages({ ...options, lesions: { max: 3, classes: ['Nodule/Mass'], readers: 3, jitter: 0.1 } })];
  const moved = jittered.flatMap((im) => im.readings.map((r, i) => [r.box, im.findings[Math.floor(i / 3)].box] as const));
  assert.ok(moved.length > 0 && moved.some(([r, f]) => r.x_min !== f.x_min) && moved.every(([r]) => r.x_max > r.x_min && r.x_max <= 96 && r.x_min >= 0));
});

test('synthetic-dicom lesions -> ingest-dicom -> convert: boxes arrive exactly (scaled) and hold the bright blobs', async (t) => {
  const synth = await runStage(syntheticDicom, { params: { patients: 8, seed: 7, size: 96, lesions: { max: 2 } } });
  assert.deepEqual(synth.artifact.meta.classes, ['Nodule/Mass', 'No finding']);
  const csv = parseCsv((await synth.file('labels.csv')).toString());
  assert.ok(csv.rows.some((r) => r.class_name === 'Nodule/Mass' && r.class_id === '8' && r.rad_id));
  const ingest = await runStage(ingestDicom, { store: synth.store, inputs: [{ artifact: synth.artifact, name: 'synth' }] });
  const converted = await runStage(convertStage, { store: synth.store, inputs: [{ artifact: ingest.artifact, name: 'ingest' }], params: { size: 48 } });
  const rows = await converted.rows<DatasetRow>();
  const truth = new Map([...phantomImages({ patients: 8, seed: 7, size: 96, lesions: { max: 2, classes: ['Nodule/Mass'], readers: 1, jitter: 0 } })].map((im) => [im.imageId, im]));
  let boxes = 0;
  for (const row of rows) {
    const exact = truth.get(row.id)!.findings.map((f) => ({ label: f.label, x_min: f.box.x_min / 2, y_min: f.box.y_min / 2, x_max: f.box.x_max / 2, y_max: f.box.y_max / 2 }));
    assert.deepEqual((row.boxes ?? []).map(({ reader: _r, ...b }) => b), exact, `image ${row.id}`);
    assert.deepEqual(row.labels, exact.length ? ['Nodule/Mass'] : ['No finding']);
    const { data, info } = await sharp(await converted.store.getBlob(row.image!)).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => data[(y * info.width + x) * info.channels];
    if (Math.max(...data) === 0) {
      // A rendering problem of the file (not of the lesion), e.g. a VOI LUT the converter maps to black.
      t.diagnostic(`image ${row.id} renders all black: its ${(row.boxes ?? []).length} lesions are not checked for contrast`);
      continue;
    }
    for (const b of row.boxes ?? []) {
      boxes++;
      // The centre of the blob (in display orientation: convert inverts MONOCHROME1) is brighter than a ring 2 px outside its box.
      const cx = Math.floor((b.x_min + b.x_max) / 2), cy = Math.floor((b.y_min + b.y_max) / 2);
      const ring: number[] = [];
      for (let x = Math.floor(b.x_min) - 2; x <= Math.ceil(b.x_max) + 1; x++) for (const y of [Math.floor(b.y_min) - 2, Math.ceil(b.y_max) + 1]) if (x >= 0 && y >= 0 && x < 48 && y < 48) ring.push(at(x, y));
      const outside = ring.reduce((s, v) => s + v, 0) / ring.length;
      assert.ok(at(cx, cy) > outside + 20, `image ${row.id}: blob ${at(cx, cy)} vs ring ${outside.toFixed(1)}`);
    }
  }
  assert.ok(boxes >= 4, `${boxes} lesions`);
});
