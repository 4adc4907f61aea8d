import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classAveragePrecision, meanAveragePrecision, withNoFindingBox, type LabelledBox } from '../../../src/ops/boxes/map.ts';

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
