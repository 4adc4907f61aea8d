import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { detectionMetrics } from '../../src/evaluation/detection-metrics.ts';
import { bootstrapSamples } from '../../src/ops/metrics/bootstrap.ts';
import { percentile } from '../../src/ops/metrics/threshold.ts';
import type { DetectionImage, LabelledBox } from '../../src/ops/boxes/map.ts';
import { runStage } from '../../src/testing/harness.ts';
import { evaluate } from '../../src/stages/evaluate.ts';
import { GALLERY_COLOURS } from '../../src/evaluation/detection-gallery.ts';

const b = (label: string, x: number, y: number, size: number, score?: number): LabelledBox => ({ label, x_min: x, y_min: y, x_max: x + size, y_max: y + size, ...(score === undefined ? {} : { score }) });

// Six images of three patients; patient p1 is detected well, p2 half, p3 badly (distinct scores: no ties across images).
const images: DetectionImage[] = [
  { truth: [b('a', 0, 0, 10)], predicted: [b('a', 0, 0, 10, 0.95)] },
  { truth: [b('a', 20, 20, 10), b('b', 40, 0, 10)], predicted: [b('a', 21, 20, 10, 0.91), b('b', 40, 1, 10, 0.88)] },
  { truth: [b('b', 0, 0, 10)], predicted: [b('b', 0, 0, 10, 0.52), b('b', 50, 50, 10, 0.83)] },
  { truth: [b('a', 5, 5, 10)], predicted: [b('a', 30, 30, 10, 0.77), b('a', 5, 6, 10, 0.41)] },
  { truth: [b('a', 0, 0, 10), b('b', 30, 30, 10)], predicted: [b('a', 60, 0, 10, 0.86), b('b', 0, 60, 10, 0.66)] },
  { truth: [], predicted: [b('b', 10, 10, 10, 0.72)] },
];
const patients = ['p1', 'p1', 'p2', 'p2', 'p3', 'p3'];
const options = { labels: ['a', 'b'], lesionLabels: ['a', 'b'], frocIouThr: 0.4 };

test('detection bootstrap by patient: each replicate equals the metrics of the drawn patients\' images, the CI their percentiles', () => {
  const n = 40;
  const result = detectionMetrics(images, { ...options, bootstrap: { n, seed: 9, level: 0.9, groups: patients } });
  const samples = bootstrapSamples(images.length, n, 9, patients);
  // Every replicate holds whole patients: both images of a patient, or neither.
  for (const s of samples) for (const pair of [[0, 1], [2, 3], [4, 5]]) assert.equal(s.filter((i) => i === pair[0]).length, s.filter((i) => i === pair[1]).length);
  for (const name of ['map_40', 'map_50', 'coco_map', 'froc_mean', 'ap_50/b']) {
    const values = samples.map((s) => detectionMetrics(s.map((i) => images[i]), options).metrics[name]).filter((v) => !Number.isNaN(v));
    assert.ok(Math.abs(result.ci[name].low - percentile(values, 5)) < 1e-12, `${name} low`);
    assert.ok(Math.abs(result.ci[name].high - percentile(values, 95)) < 1e-12, `${name} high`);
    assert.equal(result.ci[name].used, values.length);
    assert.ok(result.ci[name].low <= result.metrics[name] + 1e-12 && result.metrics[name] <= result.ci[name].high + 1e-12, `${name} point in CI`);
  }
  // By image the replicates differ (patients are split up).
  const byImage = detectionMetrics(images, { ...options, bootstrap: { n, seed: 9, level: 0.9 } });
  assert.notDeepEqual(byImage.ci.map_40, result.ci.map_40);
  assert.equal(byImage.bootstrap!.by, 'images');
});

test('detection metrics of the constructed set by hand: map_40, map_50, FROC', () => {
  const m = detectionMetrics(images, options).metrics;
  // Class a: detections .95 TP, .91 TP, .86 FP, .77 FP, .41 TP (the shifted box: IoU 90/110 > .5) over 4 truths.
  // rc .25 .5 .5 .5 .75, pr 1 1 2/3 1/2 3/5 -> all-point AP = .5 · 1 + .25 · 3/5 = .65
  assert.ok(Math.abs(m['ap_50/a'] - 0.65) < 1e-12);
  // Class b: .88 TP, .83 FP, .72 FP (image without truth), .66 FP, .52 TP over 3 truths: AP = 1/3 + 1/3 · 2/5
  assert.ok(Math.abs(m['ap_50/b'] - (1 / 3 + (1 / 3) * (2 / 5))) < 1e-12);
  assert.ok(Math.abs(m.map_50 - (0.65 + 1 / 3 + 2 / 15) / 2) < 1e-12);
  // FROC: 7 lesions over 6 images; hits .95 .91 .88 .52 .41; FPs .86 .83 .77 .72 .66 (5 FPs = 5/6 FP/image at the end)
  assert.ok(Math.abs(m.froc_8 - 5 / 7) < 1e-12);
  assert.ok(Math.abs(m['froc_0.125'] - 3 / 7) < 1e-12); // 3 lesions before the first FP (1/6 > 1/8: interpolated 3/7 .. 3/7)
});

test('evaluate on detection predictions: metric names with CIs, PR and FROC plots, gallery with the boxes drawn', async () => {
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 80, g: 80, b: 80 } } }).toColourspace('b-w').png().toBuffer();
  const data = {
    kind: 'dataset' as const,
    rows: images.map((im, i) => ({ id: `im${i}`, patient: patients[i], width: 64, height: 48, labels: [...new Set(im.truth.map((t) => t.label))], boxes: im.truth })),
  };
  const predictions = {
    kind: 'predictions' as const,
    meta: { classes: ['a', 'b'], task: 'detection' },
    rows: images.map((im, i) => ({ id: `im${i}`, split: 'test', boxes: im.predicted })),
  };
  const r0 = await runStage(evaluate, { inputs: [{ name: 'predictions', artifact: predictions }, { name: 'data', artifact: data }], params: { bootstrap: { n: 50, seed: 1 } } });
  // Without images in the dataset: no gallery, a note says why.
  assert.ok(r0.logs.some((l) => l.includes('no dataset input with images')));
  const store = r0.store;
  const blob = await store.putBlob(png);
  const withImages = { ...data, rows: data.rows.map((r) => ({ ...r, image: blob })) };
  const r = await runStage(evaluate, { store, inputs: [{ name: 'predictions', artifact: predictions }, { name: 'data', artifact: withImages }], params: { bootstrap: { n: 50, seed: 1 }, gallery: { per_group: 1, score_thr: 0.5 } } });
  const m = r.artifact.meta.metrics as Record<string, number>;
  for (const name of ['map_40', 'map_50', 'coco_map', 'coco_map_50', 'coco_map_75', 'ap_50/a', 'ap_40/b', 'coco_ap/a', 'froc_0.125', 'froc_8', 'froc_mean']) assert.ok(Number.isFinite(m[name]), name);
  for (const name of ['map_40', 'coco_map', 'froc_mean']) assert.ok(m[`${name}_ci_low`] <= m[name] && m[name] <= m[`${name}_ci_high`], `${name} CI`);
  assert.equal(m.map_50, detectionMetrics(images, options).metrics.map_50);
  assert.equal(m['map@0.4'], undefined, 'the old name map@0.4 is gone');
  const html = (await r.file('report.html')).toString();
  const report = JSON.parse((await r.file('report.json')).toString());
  assert.equal(report.detection.noFindingConvention, false); // no "No finding" class: images without boxes are plain negatives
  assert.ok(html.includes('<figcaption>pr-boxes.svg</figcaption>') && html.includes('<figcaption>froc.svg</figcaption>'));
  assert.match(html, /Precision-recall per class \(IoU &gt; 0\.5\)/);
  // Gallery at score >= .5: image 1 is perfect with the most hits (best), image 4 has two FPs and two missed truths
  // (worst), image 3 misses its truth (missed). Drawn at scale 1 below an 18 px title.
  const svg1 = (await r.file('gallery/best/im1.svg')).toString();
  assert.match(svg1, /<image x="0" y="18" width="64" height="48" preserveAspectRatio="none" href="data:image\/jpeg;base64,[A-Za-z0-9+/=]{100,}"\/>/);
  assert.ok(svg1.includes(`<rect class="box" x="20.0" y="38.0" width="10.0" height="10.0" fill="none" stroke="${GALLERY_COLOURS.found}" stroke-width="1.6"/>`), svg1);
  assert.ok(svg1.includes(`<rect class="box" x="21.0" y="38.0" width="10.0" height="10.0" fill="none" stroke="${GALLERY_COLOURS.tp}" stroke-width="1.6"/>`));
  assert.ok(svg1.includes('>a 0.91</text>') && svg1.includes('>b 0.88</text>'));
  const svg4 = (await r.file('gallery/worst/im4.svg')).toString();
  assert.equal((svg4.match(new RegExp(`stroke="${GALLERY_COLOURS.fp}" stroke-width="1.6" stroke-dasharray`, 'g')) ?? []).length, 2);
  assert.equal((svg4.match(new RegExp(`stroke="${GALLERY_COLOURS.missed}"`, 'g')) ?? []).length, 2);
  assert.ok(svg4.includes('<rect class="box" x="60.0" y="18.0" width="10.0" height="10.0"'), 'the FP a box at (60, 0)');
  const svg3 = (await r.file('gallery/missed/im3.svg')).toString();
  assert.ok(svg3.includes(`<rect class="box" x="5.0" y="23.0" width="10.0" height="10.0" fill="none" stroke="${GALLERY_COLOURS.missed}" stroke-width="1.6" stroke-dasharray="4 3"/>`), svg3);
  assert.ok(!svg3.includes('0.41'), 'the hit scoring .41 is under the gallery threshold and not drawn');
  assert.ok(html.includes('<h2>Gallery: predicted and true boxes</h2>') && html.includes(svg1.trim().slice(0, 300)));
  assert.match(html, /im4: F1 0\.00, 0 TP, 2 FP, 2 missed/);
  assert.deepEqual(Object.keys(r.artifact.files).filter((f) => f.startsWith('gallery/')).sort(), ['gallery/best/im1.svg', 'gallery/missed/im3.svg', 'gallery/worst/im4.svg']);
});
