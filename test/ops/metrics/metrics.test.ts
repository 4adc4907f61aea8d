import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  UndefinedMetricError, averagePrecision, bootstrapSamples, binaryCounts, applyThreshold, confusionMatrix, expectedCalibrationError,
  f1, percentile, rocAuc, rocCurve, sensitivity, specificity, youdenThreshold, percentileInterval,
} from '../../../src/ops/metrics/index.ts';

// The scikit-learn docs example: y = [0, 0, 1, 1], s = [0.1, 0.4, 0.35, 0.8].
const y = [0, 0, 1, 1];
const s = [0.1, 0.4, 0.35, 0.8];

test('ROC-AUC, ROC curve and AP on the scikit-learn docs example', () => {
  assert.equal(rocAuc(y, s), 0.75);
  const roc = rocCurve(y, s);
  assert.deepEqual(roc.fpr, [0, 0, 0.5, 0.5, 1]);
  assert.deepEqual(roc.tpr, [0, 0.5, 0.5, 1, 1]);
  assert.deepEqual(roc.thresholds, [Infinity, 0.8, 0.4, 0.35, 0.1]);
  // precision at recall 1/2: 1, at recall 1: 2/3 -> AP = 0.5*1 + 0.5*(2/3)
  assert.ok(Math.abs(averagePrecision(y, s) - (0.5 + 1 / 3)) < 1e-12);
});

test('a tie between a positive and a negative counts half', () => {
  assert.equal(rocAuc([0, 1], [0.5, 0.5]), 0.5);
  assert.equal(rocAuc([0, 1, 0, 1], [0.2, 0.5, 0.5, 0.9]), 0.875);
});

test('one class present: ROC-AUC is undefined, AP is 0 without positives', () => {
  assert.throws(() => rocAuc([1, 1], [0.2, 0.3]), UndefinedMetricError);
  assert.equal(averagePrecision([0, 0], [0.2, 0.3]), 0);
});

test('counts, F1, sensitivity, specificity at a threshold', () => {
  const counts = binaryCounts(y, applyThreshold(s, 0.4)); // predicted [0,1,0,1]
  assert.deepEqual(counts, { tp: 1, fp: 1, tn: 1, fn: 1 });
  assert.equal(f1(counts), 0.5);
  assert.equal(sensitivity(counts), 0.5);
  assert.equal(specificity(counts), 0.5);
  assert.deepEqual(confusionMatrix([0, 1, 2, 2], [0, 2, 2, 1], 3), [[1, 0, 0], [0, 0, 1], [0, 1, 1]]);
});

test('Youden threshold picks the corner with the best J', () => {
  // thresholds 0.8 (J .5), 0.4 (J 0), 0.35 (J .5), 0.1 (J 0): first best is 0.8
  assert.deepEqual(youdenThreshold(y, s), { threshold: 0.8, j: 0.5 });
  assert.equal(youdenThreshold([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9]).threshold, 0.7);
});

test('ECE with two bins: |0 - 0.2| * 2/4 + |1 - 0.7| * 2/4', () => {
  assert.ok(Math.abs(expectedCalibrationError([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.8], 2) - (0.1 + 0.15)) < 1e-12);
});

test('percentile interpolates linearly like numpy', () => {
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
  assert.equal(percentile([4, 1, 3, 2], 100), 4);
  assert.equal(percentile([10, 20], 25), 12.5);
});

test('bootstrap: seeded, and patient-level resampling keeps a patient\'s images together', () => {
  const patients = ['a', 'a', 'b', 'c', 'c', 'c'];
  const first = bootstrapSamples(6, 50, 3, patients);
  assert.deepEqual(first, bootstrapSamples(6, 50, 3, patients));
  assert.notDeepEqual(first, bootstrapSamples(6, 50, 4, patients));
  for (const sample of first) {
    const counts = new Map<number, number>();
    sample.forEach((i) => counts.set(i, (counts.get(i) ?? 0) + 1));
    assert.equal(counts.get(0), counts.get(1)); // rows of patient a drawn together
    assert.equal(counts.get(3), counts.get(5));
  }
  const ci = percentileInterval((idx) => idx.length, [[1], [1, 2], [1, 2, 3]]);
  assert.deepEqual(ci, { low: 1.05, high: 2.95, used: 3, skipped: 0 });
});
