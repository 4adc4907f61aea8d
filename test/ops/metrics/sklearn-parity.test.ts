import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  UndefinedMetricError, accuracy, applyThreshold, argmax, averageBinaryMetric, averagePrecision, binaryCounts, bootstrapSamples,
  brierScore, calibrationCurve, confusionMatrix, countsFromMatrix, f1, mean, multilabelCounts, oneHot, percentile,
  percentileInterval, prAuc, precision, precisionRecallCurve, rocAuc, rocCurve, sensitivity, specificity, sumCounts,
  youdenThreshold,
} from '../../../src/ops/metrics/index.ts';
import { DEBIAN_PYTHON, needs } from '../../support/reference-tools.ts';

const PYTHON = DEBIAN_PYTHON;
const SCRIPT = fileURLToPath(new URL('./sklearn_reference.py', import.meta.url));
const TOL = 1e-9;

function sklearn(cases: object[]): any[] {
  const run = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (run.error || run.status !== 0) {
    throw new Error(`scikit-learn reference failed (needs Debian ${PYTHON} with python3-sklearn): ${run.error?.message ?? run.stderr}`);
  }
  return JSON.parse(run.stdout);
}

function close(actual: number, expected: number | null, what: string) {
  if (expected === null) return assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
  assert.ok(Math.abs(actual - expected) <= TOL, `${what}: ${actual} vs sklearn ${expected} (diff ${Math.abs(actual - expected)})`);
}

function closeAll(actual: readonly number[], expected: readonly (number | null)[], what: string) {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs sklearn ${expected.length}`);
  actual.forEach((v, i) => close(v, expected[i], `${what}[${i}]`));
}

/** Our value, or the error message kind; sklearn raises ValueError where we raise UndefinedMetricError. */
function compareOrError(fn: () => number, expected: number | { error: string }, what: string) {
  if (typeof expected === 'object') {
    assert.throws(fn, UndefinedMetricError, `${what}: sklearn raised "${expected.error}" but we returned a value`);
    return;
  }
  close(fn(), expected, what);
}

const random = (seed: number) => {
  let a = seed;
  return () => ((a = (a * 1103515245 + 12345) % 2147483648) / 2147483648);
};

function makeScores(rand: () => number, n: number, style: number): number[] {
  return Array.from({ length: n }, () => {
    const v = rand();
    if (style === 0) return v; // continuous
    if (style === 1) return Math.round(v * 10) / 10; // heavy ties
    return Math.floor(v * 3) / 2; // 3 values incl. 0 and 1
  });
}

let maxDiff = 0;
function track(a: number, b: number) {
  if (Number.isFinite(a) && Number.isFinite(b)) maxDiff = Math.max(maxDiff, Math.abs(a - b));
}

test('binary metrics equal scikit-learn on random cases with ties and one-class edge cases', { skip: needs('sklearn', 'numpy') }, () => {
  const rand = random(7);
  const cases = Array.from({ length: 240 }, (_, k) => {
    const n = 2 + Math.floor(rand() * 60);
    const prevalence = k % 20 === 0 ? 0 : k % 20 === 1 ? 1 : 0.1 + rand() * 0.8;
    const truth = Array.from({ length: n }, () => (rand() < prevalence ? 1 : 0));
    const scores = makeScores(rand, n, k % 3);
    const threshold = [0.5, 0.3, rand()][k % 3];
    const bootstrap = bootstrapSamples(n, 30, k);
    return { kind: 'binary', truth, scores, threshold, bins: 5 + (k % 6), percentiles: [0, 12.5, 50, 95, 100], bootstrap };
  });
  const expected = sklearn(cases);
  let undefinedAuc = 0;
  cases.forEach((c, k) => {
    const e = expected[k];
    const what = `case ${k}`;
    compareOrError(() => rocAuc(c.truth, c.scores), e.auc, `${what} auc`);
    if (typeof e.auc === 'object') undefinedAuc++;
    else track(rocAuc(c.truth, c.scores), e.auc);
    compareOrError(() => averagePrecision(c.truth, c.scores), e.ap, `${what} ap`);
    const roc = rocCurve(c.truth, c.scores);
    closeAll(roc.fpr, e.roc.fpr, `${what} fpr`);
    closeAll(roc.tpr, e.roc.tpr, `${what} tpr`);
    closeAll(roc.thresholds.slice(1), e.roc.thresholds, `${what} roc thresholds`);
    const pr = precisionRecallCurve(c.truth, c.scores);
    closeAll(pr.precision, e.pr.precision, `${what} precision curve`);
    closeAll(pr.recall, e.pr.recall, `${what} recall curve`);
    closeAll(pr.thresholds, e.pr.thresholds, `${what} pr thresholds`);
    close(prAuc(c.truth, c.scores), e.pr_auc, `${what} pr_auc`);
    if (e.youden !== undefined) close(youdenThreshold(c.truth, c.scores).threshold, e.youden, `${what} youden`);
    else assert.throws(() => youdenThreshold(c.truth, c.scores), UndefinedMetricError);
    const counts = binaryCounts(c.truth, applyThreshold(c.scores, c.threshold));
    close(f1(counts), e.f1, `${what} f1`);
    close(sensitivity(counts), e.sensitivity, `${what} sensitivity`);
    close(specificity(counts), e.specificity, `${what} specificity`);
    close(precision(counts), e.precision, `${what} precision`);
    close(accuracy(counts), e.accuracy, `${what} accuracy`);
    assert.deepEqual([[counts.tn, counts.fp], [counts.fn, counts.tp]], e.confusion, `${what} confusion`);
    const probs = c.scores.map((s) => Math.min(1, Math.max(0, s)));
    const cal = calibrationCurve(c.truth, probs, c.bins);
    closeAll(cal.probTrue, e.calibration.probTrue, `${what} calibration prob_true`);
    closeAll(cal.probPred, e.calibration.probPred, `${what} calibration prob_pred`);
    if (e.brier !== null) close(brierScore(c.truth, probs), e.brier, `${what} brier`);
    closeAll(c.percentiles.map((q) => percentile(c.scores, q)), e.percentile, `${what} percentiles`);
    const ci = percentileInterval((idx) => rocAuc(idx.map((i) => c.truth[i]), idx.map((i) => c.scores[i])), c.bootstrap);
    assert.equal(ci.used, e.bootstrap_used, `${what} bootstrap replicates used`);
    if (e.bootstrap) {
      close(ci.low, e.bootstrap[0], `${what} CI low`);
      close(ci.high, e.bootstrap[1], `${what} CI high`);
    } else assert.ok(Number.isNaN(ci.low));
  });
  assert.ok(undefinedAuc >= 20, `edge cases with one class covered (${undefinedAuc})`);
  console.log(`binary: ${cases.length} cases, ${undefinedAuc} with one class; max |AUC diff| ${maxDiff.toExponential(2)}`);
});

test('multi-label macro / micro / weighted AUC, AP and F1 equal scikit-learn', { skip: needs('sklearn', 'numpy') }, () => {
  const rand = random(11);
  const cases = Array.from({ length: 80 }, (_, k) => {
    const n = 4 + Math.floor(rand() * 50);
    const classes = 2 + (k % 4);
    const truth = Array.from({ length: n }, () => Array.from({ length: classes }, (_, c) => (rand() < 0.15 + 0.2 * c ? 1 : 0)));
    if (k % 10 === 0) truth.forEach((row) => (row[0] = 0)); // one class with no positives
    const scores = Array.from({ length: n }, () => makeScores(rand, classes, k % 3));
    const predicted = scores.map((row) => row.map((s) => (s >= 0.5 ? 1 : 0)));
    return { kind: 'multilabel', truth, scores, predicted };
  });
  const expected = sklearn(cases);
  cases.forEach((c, k) => {
    const e = expected[k];
    for (const avg of ['macro', 'micro', 'weighted'] as const) {
      compareOrError(() => averageBinaryMetric(rocAuc, c.truth, c.scores, avg), e[`auc_${avg}`], `case ${k} auc_${avg}`);
      compareOrError(() => averageBinaryMetric(averagePrecision, c.truth, c.scores, avg), e[`ap_${avg}`], `case ${k} ap_${avg}`);
    }
    const counts = multilabelCounts(c.truth, c.predicted);
    close(mean(counts.map(f1)), e.f1_macro, `case ${k} f1_macro`);
    close(f1(sumCounts(counts)), e.f1_micro, `case ${k} f1_micro`);
    assert.deepEqual(counts.map((x) => [[x.tn, x.fp], [x.fn, x.tp]]), e.mcm, `case ${k} multilabel confusion`);
  });
});

test('multi-class one-vs-rest AUC, F1, accuracy and confusion matrix equal scikit-learn', { skip: needs('sklearn', 'numpy') }, () => {
  const rand = random(5);
  const cases = Array.from({ length: 60 }, (_, k) => {
    const n = 6 + Math.floor(rand() * 50);
    const classes = 3 + (k % 3);
    const truth = Array.from({ length: n }, (_, i) => (i < classes && k % 7 !== 0 ? i : Math.floor(rand() * classes)));
    const scores = truth.map(() => {
      const raw = Array.from({ length: classes }, () => Math.exp(3 * Math.round(rand() * 5) / 5));
      const total = raw.reduce((a, b) => a + b, 0);
      return raw.map((v) => v / total);
    });
    return { kind: 'multiclass', truth, scores };
  });
  const expected = sklearn(cases);
  cases.forEach((c, k) => {
    const e = expected[k];
    const classes = c.scores[0].length;
    const Y = oneHot(c.truth, classes);
    for (const avg of ['macro', 'weighted', 'micro'] as const) {
      compareOrError(() => averageBinaryMetric(rocAuc, Y, c.scores, avg), e[`auc_${avg}`], `case ${k} auc_${avg}`);
    }
    compareOrError(() => averageBinaryMetric(averagePrecision, Y, c.scores, 'macro'), e.ap_macro, `case ${k} ap_macro`);
    const predicted = c.scores.map(argmax);
    const matrix = confusionMatrix(c.truth, predicted, classes);
    assert.deepEqual(matrix, e.confusion, `case ${k} confusion`);
    close(mean(matrix.map((_, i) => f1(countsFromMatrix(matrix, i)))), e.f1_macro, `case ${k} f1_macro`);
    close(predicted.filter((p, i) => p === c.truth[i]).length / c.truth.length, e.accuracy, `case ${k} accuracy`);
  });
});
