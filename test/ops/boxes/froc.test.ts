import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FROC_RATES, frocCurve, frocMatches, interpolate } from '../../../src/ops/boxes/froc.ts';
import type { LabelledBox } from '../../../src/ops/boxes/map.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import { runPythonJson } from '../dicom/python.ts';
import { needs } from '../../support/reference-tools.ts';

const b = (x: number, score?: number, label = 'n', extra: Partial<LabelledBox> = {}): LabelledBox => ({ label, x_min: x, y_min: 0, x_max: x + 10, y_max: 10, ...(score === undefined ? {} : { score }), ...extra });
const near = (a: number, e: number, msg = '') => assert.ok(Math.abs(a - e) < 1e-12, `${msg} ${a} vs ${e}`);

// Image 1: lesions at 0 and 100; hits on the first at .9 and again at .6 (a second hit: neither TP nor FP), a FP at .8.
// Image 2: a lesion at 0, a FP at .7, a hit at .5. Image 3: no lesion, no detection (counts in the FP rate).
const images = [
  { truth: [b(0), b(100)], predicted: [b(1, 0.9), b(2, 0.6), b(50, 0.8)] },
  { truth: [b(0)], predicted: [b(60, 0.7), b(0, 0.5)] },
  { truth: [], predicted: [] },
];

test('FROC on a hand-computed case: lesion scores, FP per image, sensitivities at 1/8 .. 8 FP and their mean', () => {
  const m = frocMatches(images, ['n'], 0.4);
  assert.deepEqual([...m.lesionScore], [0.9, -Infinity, 0.5]);
  assert.deepEqual([...m.fpScore], [0.8, 0.7]);
  const c = frocCurve(m);
  // thresholds .9: (0 FP, 1/3); .8: (1/3 FP/image, 1/3); .7: (2/3, 1/3); .5: (2/3, 2/3)
  assert.deepEqual(c.thresholds, [Infinity, 0.9, 0.8, 0.7, 0.5]);
  assert.deepEqual(c.fpPerImage, [0, 0, 1 / 3, 2 / 3, 2 / 3]);
  assert.deepEqual(c.sensitivity, [0, 1 / 3, 1 / 3, 1 / 3, 2 / 3]);
  // 0.125, .25 lie between (0, 1/3) and (1/3, 1/3): 1/3; 0.5 between (1/3, 1/3) and (2/3, 1/3): 1/3; 1 .. 8 beyond the
  // last point (2/3 FP/image): 2/3.
  assert.deepEqual(c.atRates, [1 / 3, 1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3]);
  near(c.mean, (3 / 3 + 4 * (2 / 3)) / 7);
});

test('FROC: other labels never hit, difficult lesions are neither lesions nor FPs, weights = repeated images', () => {
  const m = frocMatches([{ truth: [b(0, undefined, 'n', { difficult: true }), b(100)], predicted: [b(0, 0.9), b(100, 0.8, 'other')] }], ['n', 'other'], 0.4);
  assert.deepEqual([...m.lesionScore], [-Infinity]);
  assert.deepEqual([...m.fpScore], [0.8]); // the 'other' box on an 'n' lesion
  const weighted = frocCurve(frocMatches(images, ['n'], 0.4), [0, 2, 1]);
  const repeated = frocCurve(frocMatches([images[1], images[1], images[2]], ['n'], 0.4));
  assert.deepEqual(weighted, repeated);
  assert.ok(Number.isNaN(frocCurve(frocMatches([images[2]], ['n'], 0.4)).mean));
  assert.equal(FROC_RATES.length, 7);
});

test('interpolation equals numpy.interp, repeated x values included', { skip: needs('numpy') }, () => {
  const rand = mulberry32(3);
  const cases = Array.from({ length: 20 }, () => {
    let x = 0;
    let y = 0;
    const xp = [0];
    const fp = [0];
    for (let i = 0; i < 12; i++) {
      x += rand() < 0.3 ? 0 : rand() * 2;
      y += rand() < 0.5 ? 0 : rand() * 0.1;
      xp.push(x);
      fp.push(y);
    }
    return { xp, fp };
  });
  const at = [...FROC_RATES, 0, 0.01, 3.3, 100];
  const ref = runPythonJson<number[][]>('import json, sys, numpy as np; c = json.loads(sys.argv[1]); print(json.dumps([np.interp(json.loads(sys.argv[2]), x["xp"], x["fp"]).tolist() for x in c]))', [JSON.stringify(cases), JSON.stringify(at)]);
  cases.forEach((c, k) => at.forEach((x, i) => near(interpolate(x, c.xp, c.fp), ref[k][i], `case ${k} x ${x}`)));
  // Repeated xp exactly at x: numpy takes the last of them.
  assert.equal(interpolate(1, [0, 1, 1, 2], [0, 0.2, 0.5, 0.6]), 0.5);
});
