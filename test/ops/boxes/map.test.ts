import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { classAveragePrecision, meanAveragePrecision, vocAp, vocMatches, withNoFindingBox, type LabelledBox } from '../../../src/ops/boxes/map.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import { DEBIAN_PYTHON, needs } from '../../support/reference-tools.ts';

const b = (label: string, x_min: number, y_min: number, x_max: number, y_max: number, score?: number): LabelledBox => ({ label, x_min, y_min, x_max, y_max, score });

test('perfect detections and a "No finding" image give mAP 1', () => {
  const images = [
    { truth: [b('a', 0, 0, 10, 10)], predicted: [b('a', 0, 0, 10, 10, 0.9)] },
    { truth: withNoFindingBox([], 'No finding'), predicted: withNoFindingBox([], 'No finding', 0.8) },
  ];
  const { map, perClass } = meanAveragePrecision(images, ['a', 'No finding', 'c']);
  assert.equal(map, 1);
  assert.ok(Number.isNaN(perClass[2].ap)); // no truth for c: left out of the mean
});

test('duplicates and misses: AP under the precision envelope is 0.75', () => {
  const images = [
    { truth: [b('a', 0, 0, 10, 10)], predicted: [b('a', 0, 0, 10, 10, 0.9), b('a', 0, 0, 10, 10, 0.8)] },
    { truth: [b('a', 0, 0, 10, 10)], predicted: [b('a', 20, 20, 30, 30, 0.7), b('a', 1, 1, 10, 10, 0.6)] },
  ];
  // precision 1, 1/2, 1/3, 1/2 at recall .5, .5, .5, 1 -> .5 * 1 + .5 * .5
  assert.equal(classAveragePrecision(images, 'a', 0.4).ap, 0.75);
});

test('IoU must exceed 0.4: exactly 0.4 is a miss', () => {
  const at = (x: number) => [{ truth: [b('a', 0, 0, 10, 10)], predicted: [b('a', 0, 0, x, 10, 0.5)] }];
  assert.equal(classAveragePrecision(at(4), 'a', 0.4).ap, 0);
  assert.equal(classAveragePrecision(at(4.1), 'a', 0.4).ap, 1);
  // a lower-scored hit after a false positive: precision 1/2 at recall 1
  const images = [{ truth: [b('a', 0, 0, 10, 10)], predicted: [b('a', 30, 30, 40, 40, 0.9), b('a', 0, 0, 10, 10, 0.1)] }];
  assert.equal(classAveragePrecision(images, 'a', 0.4).ap, 0.5);
  assert.equal(meanAveragePrecision([{ truth: [b('a', 0, 0, 10, 10)], predicted: [] }], ['a']).map, 0);
});

test('difficult truth boxes: a detection on one is ignored (neither TP nor FP) and they are not positives', () => {
  const d = (x: number, s: number) => b('a', x, 0, x + 10, 10, s);
  const images = [{ truth: [b('a', 0, 0, 10, 10), { ...b('a', 50, 0, 60, 10), difficult: true }], predicted: [d(50, 0.9), d(100, 0.8), d(0, 0.7)] }];
  // Without the ignored detection: FP (.8) then TP (.7): precision 1/2 at recall 1.
  assert.equal(classAveragePrecision(images, 'a', 0.5).ap, 0.5);
  assert.equal(classAveragePrecision(images, 'a', 0.5).truthBoxes, 1);
  const m = vocMatches(images, 'a', 0.5);
  assert.deepEqual([...m.outcome], [-1, 0, 1]);
});

test('bootstrap weights give the AP of the concatenated images', () => {
  const one = { truth: [b('a', 0, 0, 10, 10)], predicted: [b('a', 0, 0, 10, 10, 0.9), b('a', 30, 30, 40, 40, 0.85)] };
  const two = { truth: [b('a', 0, 0, 10, 10), b('a', 20, 20, 30, 30)], predicted: [b('a', 20, 20, 30, 30, 0.6), b('a', 50, 50, 60, 60, 0.7)] };
  const three = { truth: [], predicted: [b('a', 0, 0, 10, 10, 0.95)] };
  const weights = [2, 0, 1];
  const concatenated = [one, one, three];
  const weighted = vocAp(vocMatches([one, two, three], 'a', 0.4), weights).ap;
  assert.equal(weighted, classAveragePrecision(concatenated, 'a', 0.4).ap);
  assert.ok(Math.abs(weighted - 2 / 3) < 1e-15); // FP .95, TP .9, TP .9 (recall 1 at precision 2/3), FP, FP .85
});

test('VOC AP equals a numpy implementation of the devkit algorithm on random images (ties, duplicates, difficult boxes)', { skip: needs('numpy') }, () => {
  const rand = mulberry32(5);
  const box = (label: string, extra: object = {}) => {
    const x = rand() * 60, y = rand() * 60;
    return { label, x_min: x, y_min: y, x_max: x + 4 + rand() * 25, y_max: y + 4 + rand() * 25, ...extra };
  };
  const images = Array.from({ length: 25 }, () => {
    const truth = Array.from({ length: Math.floor(rand() * 5) }, () => box(rand() < 0.5 ? 'a' : 'b', rand() < 0.1 ? { difficult: true } : {}));
    const predicted = [
      ...truth.flatMap((t) => (rand() < 0.8 ? [{ ...t, difficult: undefined, x_min: t.x_min + rand() * 6, y_max: t.y_max - rand() * 6, score: Math.round(rand() * 20) / 20 }] : [])),
      ...Array.from({ length: Math.floor(rand() * 4) }, () => box(rand() < 0.5 ? 'a' : 'b', { score: Math.round(rand() * 20) / 20 })),
    ];
    return { truth, predicted };
  });
  const script = readFileSync(new URL('./voc_reference.py', import.meta.url), 'utf8');
  const ref = JSON.parse(execFileSync(DEBIAN_PYTHON, ['-c', script], { input: JSON.stringify({ images, labels: ['a', 'b'], thresholds: [0.4, 0.5] }), encoding: 'utf8' }));
  for (const thr of [0.4, 0.5]) {
    for (const label of ['a', 'b']) {
      const ours = classAveragePrecision(images, label, thr).ap;
      assert.ok(Math.abs(ours - ref[String(thr)][label]) < 1e-12, `${label} @ ${thr}: ${ours} vs ${ref[String(thr)][label]}`);
    }
  }
});
