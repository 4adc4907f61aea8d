import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { classificationMetrics, type Task } from '../../src/ops/metrics/classification.ts';
import { DEBIAN_PYTHON, needs } from '../support/reference-tools.ts';

const SCRIPT = fileURLToPath(new URL('./medmnist_reference.py', import.meta.url));

interface Case {
  task: 'binary' | 'multiclass' | 'multilabel';
  /** MedMNIST's y_true: class indices (binary, multi-class) or 0/1 rows (multi-label). */
  truth: number[] | number[][];
  scores: number[][];
}

const random = (seed: number) => {
  let a = seed;
  return () => ((a = (a * 1103515245 + 12345) % 2147483648) / 2147483648);
};

/** Scores on a coarse grid (ties, and exactly 0.5 on the thresholds) or continuous. */
const score = (rand: () => number, k: number) => (k % 2 ? Math.round(rand() * 8) / 8 : rand());

function makeCases(): Case[] {
  const rand = random(3);
  const cases: Case[] = [];
  for (let k = 0; k < 90; k++) {
    const n = 12 + Math.floor(rand() * 40);
    const task = (['binary', 'multiclass', 'multilabel'] as const)[k % 3];
    const C = task === 'binary' ? 2 : 3 + (k % 4);
    if (task === 'multilabel') {
      // every label has both outcomes (MedMNIST's per-label AUC needs them)
      const truth = Array.from({ length: n }, (_, i) => Array.from({ length: C }, (_, c) => (i === c ? 1 : i === C + c ? 0 : rand() < 0.3 ? 1 : 0)));
      cases.push({ task, truth, scores: truth.map(() => Array.from({ length: C }, () => score(rand, k))) });
    } else {
      const truth = Array.from({ length: n }, (_, i) => (i < C ? i : Math.floor(rand() * C)));
      const scores = truth.map(() => {
        if (task === 'binary') {
          const p = score(rand, k);
          return [1 - p, p]; // a 2-way softmax
        }
        const raw = Array.from({ length: C }, () => Math.exp(3 * score(rand, k)));
        const sum = raw.reduce((a, b) => a + b, 0);
        return raw.map((v) => v / sum);
      });
      cases.push({ task, truth, scores });
    }
  }
  return cases;
}

/** What evaluate reports for a MedMNIST set: binary sets are 2-class softmax models (task multiclass here). */
function ours(c: Case): { auc: number; acc: number } {
  const C = c.scores[0].length;
  const task: Task = c.task === 'multilabel' ? 'multilabel' : 'multiclass';
  const truth = c.task === 'multilabel' ? (c.truth as number[][]) : (c.truth as number[]).map((y) => Array.from({ length: C }, (_, k) => (k === y ? 1 : 0)));
  const classes = Array.from({ length: C }, (_, k) => `c${k}`);
  const m = classificationMetrics({ task, classes, truth, scores: c.scores }, { groups: ['auc', 'accuracy'], thresholds: classes.map(() => 0.5), calibrationBins: 10 });
  // a binary set's plain `auc` is its positive (second) class's, the one MedMNIST scores: equal to auc_macro
  if (c.task === 'binary') assert.ok(Math.abs(m.auc - m.auc_macro) < 1e-12 || (Number.isNaN(m.auc) && Number.isNaN(m.auc_macro)), `binary auc ${m.auc} vs auc_macro ${m.auc_macro}`);
  return { auc: c.task === 'binary' ? m.auc : m.auc_macro, acc: task === 'multilabel' ? m.accuracy_macro : m.accuracy };
}

test("evaluate's auc_macro and accuracy / accuracy_macro equal MedMNIST's AUC and ACC (scikit-learn) on constructed cases", { skip: needs('sklearn', 'numpy') }, () => {
  const cases = makeCases();
  const run = spawnSync(DEBIAN_PYTHON, [SCRIPT], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, run.stderr);
  const expected = JSON.parse(run.stdout) as Array<{ auc: number; acc: number }>;
  let halves = 0;
  cases.forEach((c, k) => {
    const got = ours(c);
    assert.ok(Math.abs(got.auc - expected[k].auc) < 1e-12, `case ${k} (${c.task}) AUC ${got.auc} vs ${expected[k].auc}`);
    assert.ok(Math.abs(got.acc - expected[k].acc) < 1e-12, `case ${k} (${c.task}) ACC ${got.acc} vs ${expected[k].acc}`);
    if (c.scores.some((row) => row.includes(0.5))) halves++;
  });
  assert.ok(halves >= 10, `scores of exactly 0.5 (the thresholds' edge) covered: ${halves} cases`);
});
