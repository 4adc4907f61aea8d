import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stratifiedGroupSplit } from '../../../src/ops/splits/stratify.ts';
import { kfoldAssign, holdoutAssign } from '../../../src/ops/splits/kfold.ts';
import { exampleDistributionDeviation, labelDistributionDeviation, partStats } from '../../../src/ops/splits/measures.ts';
import { groupsInSeveralParts } from '../../../src/ops/splits/leakage.ts';
import { labelSet, type SplitItem } from '../../../src/ops/splits/groups.ts';
import { seededRandom, shuffled } from '../../../src/util/random.ts';
import { NIH_FIXTURES } from '../../support/fixtures.ts';
import { DEBIAN_PYTHON, needs } from '../../support/reference-tools.ts';

const PYTHON = DEBIAN_PYTHON;
const SKLEARN = fileURLToPath(new URL('./sklearn_sgkf.py', import.meta.url));

function ld(items: readonly SplitItem[], part: readonly number[], parts: number): number {
  const labels = labelSet(items);
  return labelDistributionDeviation(partStats(items, part, parts, labels), labels);
}

function sklearnFolds(jobs: Array<{ items: readonly SplitItem[]; k: number; seed: number }>): number[][] {
  const input = JSON.stringify(jobs.map(({ items, k, seed }) => ({ y: items.map((i) => i.labels[0]), groups: items.map((i) => i.group), k, seed })));
  const run = spawnSync(PYTHON, [SKLEARN], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, `scikit-learn reference failed (needs Debian python3-sklearn): ${run.stderr}${run.error ?? ''}`);
  return JSON.parse(run.stdout);
}

/** The 1,000 real NIH X-rays: patient = first 8 digits of the NIH file name; label normal/abnormal. */
function nihItems(): SplitItem[] {
  const lines = readFileSync(`${NIH_FIXTURES}/labels.csv`, 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const cols = line.split(',');
    return { group: cols[4].slice(0, 8), labels: [cols[3]] };
  });
}

/** Synthetic grouped multi-class data: patients with 1-8 images of mostly one, imbalanced, class. */
function multiclassItems(seed: number): SplitItem[] {
  const random = seededRandom(seed);
  const classes = ['A', 'B', 'C', 'D', 'E'], p = [0.5, 0.2, 0.15, 0.1, 0.05];
  const pick = () => { let u = random(); for (let i = 0; i < p.length; i++) { if ((u -= p[i]) < 0) return classes[i]; } return 'E'; };
  const items: SplitItem[] = [];
  for (let g = 0; g < 400; g++) {
    const main = pick(), n = 1 + Math.floor(random() * random() * 8);
    for (let i = 0; i < n; i++) items.push({ group: `p${g}`, labels: [random() < 0.8 ? main : pick()] });
  }
  return items;
}

/** Synthetic VinBigData-like multi-label data: 14 findings with co-occurrence, many normal images. */
function multilabelItems(seed: number): SplitItem[] {
  const random = seededRandom(seed);
  const findings = Array.from({ length: 14 }, (_, i) => `F${i}`);
  const items: SplitItem[] = [];
  for (let g = 0; g < 500; g++) {
    const n = 1 + Math.floor(random() * random() * 5);
    const prone = findings.filter((_, i) => random() < 0.25 / (1 + i * 0.4));
    for (let i = 0; i < n; i++) {
      const labels = prone.filter(() => random() < 0.6);
      items.push({ group: `p${g}`, labels: labels.length ? labels : ['No finding'] });
    }
  }
  return items;
}

test('a tiny split keeps groups whole and balances labels (hand-checked)', () => {
  const items: SplitItem[] = [
    { group: 'a', labels: ['x'] }, { group: 'a', labels: ['x'] },
    { group: 'b', labels: ['x'] }, { group: 'b', labels: ['x'] },
    { group: 'c', labels: ['y'] },
    { group: 'd', labels: ['y'] },
  ];
  const part = stratifiedGroupSplit(items, [1, 1], 3);
  assert.equal(part[0], part[1]);
  assert.equal(part[2], part[3]);
  assert.notEqual(part[0], part[2], 'the two x patients go to different folds');
  assert.notEqual(part[4], part[5], 'the two y patients go to different folds');
  assert.equal(ld(items, part, 2), 0);
});

test('LD and ED match hand-computed values', () => {
  // part 0: 3 images, 1 with x; part 1: 1 image, with x. Whole: 2 of 4 -> ratio 1.
  const items: SplitItem[] = [{ group: 'a', labels: ['x'] }, { group: 'b', labels: ['y'] }, { group: 'c', labels: ['y'] }, { group: 'd', labels: ['x'] }];
  const stats = partStats(items, [0, 0, 0, 1], 2, ['x', 'y']);
  assert.deepEqual(stats[0].labels, { x: 1, y: 2 });
  // x: |1/2 - 1| + |1/max(1,0) - 1| = .5 + 0; y: |2/1 - 1| + |0/1 - 1| = 1 + 1 -> (0.5 + 2) / 4
  assert.equal(labelDistributionDeviation(stats, ['x', 'y']), 2.5 / 4);
  // sizes 3 and 1 against 2 and 2
  assert.equal(exampleDistributionDeviation(stats, [0.5, 0.5]), 1);
});

test('kfold is deterministic for a seed, keeps patients in one fold and holds out a grouped test part', () => {
  const items = multiclassItems(11);
  const a = kfoldAssign(items, 5, 42, 0.2), b = kfoldAssign(items, 5, 42, 0.2), c = kfoldAssign(items, 5, 43, 0.2);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.fold, c.fold);
  const parts = items.map((_, i) => (a.split[i] === 'test' ? 'test' : a.fold[i]!));
  assert.deepEqual(groupsInSeveralParts(items.map((i) => i.group), parts), []);
  const testShare = a.split.filter((s) => s === 'test').length / items.length;
  assert.ok(Math.abs(testShare - 0.2) < 0.02, `test share ${testShare}`);
  const h = holdoutAssign(items, { train: 0.7, val: 0.15, test: 0.15 }, 1);
  assert.deepEqual(groupsInSeveralParts(items.map((i) => i.group), h), []);
  assert.ok(Math.abs(h.filter((s) => s === 'val').length / items.length - 0.15) < 0.02);
});

test('single-label grouped k-fold: LD no worse than scikit-learn StratifiedGroupKFold (real NIH + synthetic)', { skip: needs('sklearn', 'numpy') }, (t) => {
  const cases = (
    [['NIH 1000 real (275 patients)', nihItems()], ['synthetic 5-class', multiclassItems(5)]] as const
  ).flatMap(([name, items]) => [0, 1, 2].map((seed) => ({ name, items, k: 5, seed })));
  const theirsAll = sklearnFolds(cases);
  cases.forEach(({ name, items, seed }, n) => {
    const ours = stratifiedGroupSplit(items, [1, 1, 1, 1, 1], seed);
    const theirs = theirsAll[n];
    assert.deepEqual(groupsInSeveralParts(items.map((i) => i.group), theirs), []);
    const ourLd = ld(items, ours, 5), skLd = ld(items, theirs, 5);
    const ed = (p: number[]) => exampleDistributionDeviation(partStats(items, p, 5, labelSet(items)), [0.2, 0.2, 0.2, 0.2, 0.2]);
    t.diagnostic(`${name} seed ${seed}: LD ours ${ourLd.toFixed(5)} vs sklearn ${skLd.toFixed(5)}; ED ours ${ed(ours).toFixed(2)} vs sklearn ${ed(theirs).toFixed(2)} images`);
    assert.ok(ourLd <= skLd, `${name} seed ${seed}: our LD ${ourLd} > sklearn's ${skLd}`);
  });
});

test('multi-label grouped k-fold: LD better than a random grouped split', (t) => {
  const items = multilabelItems(9);
  for (const seed of [0, 1, 2]) {
    const ours = stratifiedGroupSplit(items, [1, 1, 1, 1, 1], seed);
    const groups = shuffled([...new Set(items.map((i) => i.group))], seededRandom(seed + 100));
    const foldOf = new Map(groups.map((g, n) => [g, n % 5]));
    const random = items.map((i) => foldOf.get(i.group)!);
    const ourLd = ld(items, ours, 5), randomLd = ld(items, random, 5);
    t.diagnostic(`multi-label (${items.length} images, ${groups.length} patients, ${labelSet(items).length} labels) seed ${seed}: LD ours ${ourLd.toFixed(5)} vs random grouped ${randomLd.toFixed(5)}`);
    assert.deepEqual(groupsInSeveralParts(items.map((i) => i.group), ours), []);
    assert.ok(ourLd < randomLd * 0.7, `our LD ${ourLd} not clearly better than random ${randomLd}`);
  }
});
