import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inverseAffine, sampleAugment } from '../../../src/ops/augment/affine.ts';
import { sampleCutmixBox } from '../../../src/ops/augment/cutmix.ts';
import { sampleBeta, sampleGamma } from '../../../src/ops/augment/distributions.ts';
import { seededRandom } from '../../../src/util/random.ts';

const round = (xs: number[]) => xs.map((v) => Math.round(v * 1e9) / 1e9 + 0);

test('identity ranges give the identity transform', () => {
  const none = { rotation: 0, width_shift: 0, height_shift: 0, shear: 0, zoom: 0, hflip: false, vflip: false, brightness: [1, 1] as [number, number] };
  const s = sampleAugment(none, 5, 7, seededRandom(1));
  assert.deepEqual(round(s.transform), [1, 0, 0, 0, 1, 0, 0, 0]);
  assert.equal(s.brightness, 1);
});

test('hand-checked inverse maps: flip, shift, 90 degree rotation, zoom', () => {
  // left-right flip of a 5-wide image: output x samples input 4 - x
  assert.deepEqual(round(inverseAffine(0, 0, -1, 1, 0, 0, 5, 5)), [-1, 0, 4, 0, 1, 0, 0, 0]);
  // shift right by 2: output x samples input x - 2
  assert.deepEqual(round(inverseAffine(0, 0, 1, 1, 2, 0, 5, 5)), [1, 0, -2, 0, 1, 0, 0, 0]);
  // rotation by +90 deg about centre (2, 2): out = R(in - c) + c with R = [[0,-1],[1,0]] -> in = R^T (out - c) + c
  // in_x = (out_y - 2) + 2 = out_y; in_y = -(out_x - 2) + 2 = 4 - out_x
  assert.deepEqual(round(inverseAffine(Math.PI / 2, 0, 1, 1, 0, 0, 5, 5)), [0, 1, 0, -1, 0, 4, 0, 0]);
  // zoom x2 about centre (1.5, 1.5): in = (out - 1.5) / 2 + 1.5
  assert.deepEqual(round(inverseAffine(0, 0, 2, 2, 0, 0, 4, 4)), [0.5, 0, 0.75, 0, 0.5, 0.75, 0, 0]);
});

test('gamma and beta samples have the right means', () => {
  const random = seededRandom(3);
  const n = 20000;
  let g = 0, g05 = 0, b = 0, b1 = 0;
  for (let i = 0; i < n; i++) {
    g += sampleGamma(3, random);
    g05 += sampleGamma(0.5, random);
    b += sampleBeta(2, 6, random);
    b1 += sampleBeta(1, 1, random);
  }
  assert.ok(Math.abs(g / n - 3) < 0.05, `gamma(3) mean ${g / n}`);
  assert.ok(Math.abs(g05 / n - 0.5) < 0.02, `gamma(.5) mean ${g05 / n}`);
  assert.ok(Math.abs(b / n - 0.25) < 0.01, `beta(2,6) mean ${b / n}`);
  assert.ok(Math.abs(b1 / n - 0.5) < 0.01, `beta(1,1) mean ${b1 / n}`);
});

test('cutmix box stays inside the image and lambda matches its area', () => {
  const random = seededRandom(5);
  for (let i = 0; i < 200; i++) {
    const box = sampleCutmixBox(1, 32, 24, random);
    assert.ok(box.x0 >= 0 && box.x1 <= 32 && box.y0 >= 0 && box.y1 <= 24 && box.x0 <= box.x1 && box.y0 <= box.y1);
    assert.equal(box.lambda, 1 - ((box.x1 - box.x0) * (box.y1 - box.y0)) / (32 * 24));
  }
});
