import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COCO_IOU_THRESHOLDS, COCO_RECALL_THRESHOLDS, cocoMatches, cocoPrecision, linspace, meanPrecision } from '../../../src/ops/boxes/coco-eval.ts';
import { classAveragePrecision, type LabelledBox } from '../../../src/ops/boxes/map.ts';

const b = (x_min: number, y_min: number, x_max: number, y_max: number, score?: number, extra: Partial<LabelledBox> = {}): LabelledBox => ({ label: 'a', x_min, y_min, x_max, y_max, ...(score === undefined ? {} : { score }), ...extra });
const near = (a: number, e: number, msg = '') => assert.ok(Math.abs(a - e) < 1e-12, `${msg} ${a} vs ${e}`);
const apPerThreshold = (images: Parameters<typeof cocoMatches>[0], maxDets?: number) => cocoPrecision(cocoMatches(images, 'a', maxDets ? { maxDets } : {}))!.map((row) => meanPrecision([row]));

test('thresholds as numpy.linspace builds them in COCOeval', () => {
  assert.equal(COCO_IOU_THRESHOLDS.length, 10);
  assert.equal(COCO_RECALL_THRESHOLDS.length, 101);
  assert.equal(COCO_IOU_THRESHOLDS[0], 0.5);
  assert.equal(COCO_IOU_THRESHOLDS[9], 0.95);
  assert.equal(COCO_IOU_THRESHOLDS[1], 0.5 + 0.45 / 9); // 0.5499999999999999 in numpy too
  assert.equal(COCO_RECALL_THRESHOLDS[7], 7 * 0.01); // 0.07000000000000001, as numpy
  assert.deepEqual(linspace(0, 1, 3), [0, 0.5, 1]);
});

test('a detection of IoU 0.72 is a hit at IoU .50-.70 and a miss from .75: AP 1 x 5, 0 x 5, coco_map 0.5', () => {
  const images = [{ truth: [b(0, 0, 10, 10)], predicted: [b(0, 0, 10, 7.2, 0.9)] }];
  // Precision is tp / (tp + fp + eps) as in COCOeval (eps = numpy.spacing(1)), so 1 reads 0.9999999999999998.
  apPerThreshold(images).forEach((ap, t) => near(ap, t < 5 ? 1 : 0, `threshold ${t}`));
  const p = cocoPrecision(cocoMatches(images, 'a'));
  near(meanPrecision(p), 0.5);
  near(meanPrecision(p, [0]), 1); // AP50
  assert.equal(meanPrecision(p, [5]), 0); // AP75
});

test('101-point interpolation: TP, FP, TP gives (51 · 1 + 50 · 2/3) / 101, not the all-point 0.8333', () => {
  const images = [{ truth: [b(0, 0, 10, 10), b(50, 50, 60, 60)], predicted: [b(0, 0, 10, 10, 0.9), b(100, 100, 110, 110, 0.8), b(50, 50, 60, 60, 0.7)] }];
  // rc [.5, .5, 1], pr [1, .5, 2/3] -> envelope [1, 2/3, 2/3]; recall thresholds 0 .. .50 take 1, .51 .. 1 take 2/3.
  for (const ap of apPerThreshold(images)) near(ap, (51 + 50 * (2 / 3)) / 101);
  near(classAveragePrecision(images, 'a', 0.5).ap, 0.5 + 0.5 * (2 / 3));
});

test('COCO matching takes the best unmatched truth box, VOC the best box even if taken: 0.604 vs VOC 0.5', () => {
  // T1 [0,10], T2 [4,14] (x; y 0..10). D1 = T1 (.9). D2 [1.4, 11.4] (.8): IoU 86/114 = .754 with T1 (taken), 74/126 = .587 with T2.
  const images = [{ truth: [b(0, 0, 10, 10), b(4, 0, 14, 10)], predicted: [b(0, 0, 10, 10, 0.9), b(1.4, 0, 11.4, 10, 0.8)] }];
  const ap = apPerThreshold(images);
  // IoU .50, .55: D2 takes T2 -> precision 1 at recall 1. From .60: D2 is a FP -> precision 1 up to recall .5 (51 of 101 points).
  near(ap[0], 1);
  near(ap[1], 1);
  for (const v of ap.slice(2)) near(v, 51 / 101);
  near(meanPrecision(cocoPrecision(cocoMatches(images, 'a'))), (2 + 8 * (51 / 101)) / 10);
  assert.equal(classAveragePrecision(images, 'a', 0.5).ap, 0.5); // VOC: D2's best overlap is T1, already taken: FP
});

test('maxDets: only the 100 best detections of an image count', () => {
  const far = Array.from({ length: 100 }, (_, i) => b(100 + i, 100, 101 + i, 101, 0.9 - i * 0.001));
  const images = [{ truth: [b(0, 0, 10, 10)], predicted: [...far, b(0, 0, 10, 10, 0.1)] }];
  assert.deepEqual(apPerThreshold(images), Array(10).fill(0));
  for (const ap of apPerThreshold(images, 101)) near(ap, 1 / 101); // recall 1 only at the 101st: precision 1/101 for all 101 points
  // A category with no truth box is undefined (COCO's -1), not 0.
  assert.equal(cocoPrecision(cocoMatches([{ truth: [], predicted: [b(0, 0, 1, 1, 0.5)] }], 'a')), undefined);
});

test('ignored (difficult) truth: a detection matching it is neither TP nor FP; regular boxes are preferred', () => {
  // D1 covers the difficult box exactly and overlaps the regular one by 60/140 = .43 (< .5); D2 is a FP.
  const images = [{ truth: [b(0, 0, 10, 10, undefined, { difficult: true }), b(4, 0, 14, 10)], predicted: [b(0, 0, 10, 10, 0.9), b(50, 50, 60, 60, 0.8)] }];
  const m = cocoMatches(images, 'a');
  // So D1 matches the difficult box and is ignored.
  assert.deepEqual([...m.matched[0]], [1, 0]);
  assert.deepEqual([...m.ignored[0]], [1, 0]);
  assert.deepEqual([...m.positives], [1]);
  // Only the FP counts: recall 0 -> AP 0.
  assert.deepEqual(apPerThreshold(images), Array(10).fill(0));
  // Now D1 overlaps the regular box by .8 and the difficult one exactly: the regular box wins while IoU .8 is enough.
  const prefer = [{ truth: [b(0, 0, 10, 10), b(0, 0, 8, 10, undefined, { difficult: true })], predicted: [b(0, 0, 8, 10, 0.9)] }];
  const pm = cocoMatches(prefer, 'a');
  assert.deepEqual([pm.matched[0][0], pm.ignored[0][0]], [1, 0]); // IoU .8 with the regular box
  assert.deepEqual([pm.matched[7][0], pm.ignored[7][0]], [1, 1]); // IoU .85: only the difficult one (IoU 1)
});

test('weights (bootstrap multiplicities) equal concatenating the images', () => {
  const one = { truth: [b(0, 0, 10, 10)], predicted: [b(0, 0, 10, 9, 0.9), b(30, 30, 40, 40, 0.65)] };
  const two = { truth: [b(0, 0, 10, 10), b(20, 20, 30, 30)], predicted: [b(20, 20, 30, 28, 0.6), b(50, 50, 60, 60, 0.7)] };
  const weighted = cocoPrecision(cocoMatches([one, two], 'a'), [1, 2]);
  const concatenated = cocoPrecision(cocoMatches([one, two, two], 'a'));
  assert.deepEqual(weighted, concatenated);
});
