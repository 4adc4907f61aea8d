import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { resizeBicubic } from '../../../src/ml/import/resize-bicubic.ts';
import { maxAbsDiff, readFloats, runPython, tempDir, torchUnavailable } from './torch-reference.ts';

// Random grids resized by PyTorch's F.interpolate(mode='bicubic'), down and up, square and not.
const CASES = [
  [14, 14, 5, 8, 8],
  [4, 4, 3, 7, 7],
  [14, 14, 2, 4, 4],
  [2, 2, 3, 4, 4],
  [5, 9, 2, 11, 3],
];
const skip = torchUnavailable();
let dir = '';
before(() => {
  if (skip) return;
  dir = tempDir('resize-bicubic-');
  runPython('interpolate_reference.py', [dir, ...CASES.map((c) => c.join(':'))]);
});
after(() => dir && rmSync(dir, { recursive: true, force: true }));

for (const [h, w, c, oh, ow] of CASES) {
  for (const antialias of [false, true]) {
    test(`resizeBicubic ${h}x${w} -> ${oh}x${ow} (${c} channels, antialias ${antialias}) equals PyTorch's F.interpolate within 1e-5`, { skip }, () => {
      const name = join(dir, [h, w, c, oh, ow].join('_'));
      const want = readFloats(`${name}.${antialias ? 'antialias' : 'plain'}.bin`);
      const got = resizeBicubic(readFloats(`${name}.input.bin`), h, w, c, oh, ow, antialias);
      assert.equal(got.length, want.length);
      assert.ok(maxAbsDiff(got, want) < 1e-5, `max abs difference ${maxAbsDiff(got, want)}`);
    });
  }
}

test('resizeBicubic: the same size is the identity, a wrong length a clear error', () => {
  const x = Float32Array.from({ length: 3 * 4 * 2 }, (_, i) => Math.sin(i));
  for (const antialias of [false, true]) assert.ok(maxAbsDiff(resizeBicubic(x, 3, 4, 2, 3, 4, antialias), x) < 1e-6);
  assert.throws(() => resizeBicubic(x, 3, 3, 2, 5, 5, false), /24 values are not a 3x3 grid of 2 channels/);
});
