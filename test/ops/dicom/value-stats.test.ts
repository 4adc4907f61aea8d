import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distribution, percentile } from '../../../src/ops/dicom/value-stats.ts';

test('percentiles interpolate linearly like numpy', () => {
  const d = distribution(Int32Array.from([4, 1, 3, 2]), (v) => v);
  assert.deepEqual([0, 25, 50, 100].map((p) => percentile(d, p)), [1, 1.75, 2.5, 4]);
});

test('the distribution is of f(v), which may be non-monotonic, with counts', () => {
  const d = distribution(Int32Array.from([0, 1, 1, 2, 2, 2]), (v) => [30, 10, 20][v]);
  assert.deepEqual([...d.values], [10, 20, 30]);
  assert.deepEqual([...d.counts], [2, 3, 1]);
  assert.equal(percentile(d, 50), 20);
  assert.equal(percentile(d, 100), 30);
});
