import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizedRanks, rankColumns, weightedMean } from '../../../src/ops/ensemble/combine.ts';

test('weighted mean of score vectors', () => {
  assert.deepEqual(weightedMean([[0.2, 1], [0.6, 0]]), [0.4, 0.5]);
  const w = weightedMean([[0.2, 1], [0.6, 0]], [3, 1]);
  assert.ok(Math.abs(w[0] - 0.3) < 1e-15 && w[1] === 0.75, String(w));
  assert.throws(() => weightedMean([[1]], [0]), /sum to more than 0/);
});

test('normalized ranks share ties like scipy rankdata(average) / n', () => {
  assert.deepEqual(normalizedRanks([0.3, 0.1, 0.3, 0.9]), [2.5 / 4, 1 / 4, 2.5 / 4, 1]);
  assert.deepEqual(rankColumns([[5, 0], [1, 1]]), [[1, 0.5], [0.5, 1]]);
});
