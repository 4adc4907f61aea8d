import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { resizeBicubic } from '../../../src/ml/import/resize-bicubic.ts';
import { maxAbsDiff, readFloats, runPython, tempDir, torchUnavailable } from './torch-reference.ts';

// Random grids resized by PyTorch's F.interpolate(mode='bicubic'), down and up, square and not: plain,
// with antialias (timm) and with align_corners=True (torchvision). Each mode is checked against the
// others' references too, so a mode that fell back to another would fail.
const CASES = [
  [14, 14, 5, 8, 8],
  [4, 4, 3, 7, 7],
  [14, 14, 2, 4, 4],
  [2, 2, 3, 4, 4],
  [5, 9, 2, 11, 3],
  [3, 3, 2, 1, 1],
];
const MODES = { plain: {}, antialias: { antialias: true }, corners: { alignCorners: true } } as const;
const skip = torchUnavailable();
let dir = '';
before(() => {
  if (skip) return;
  dir = tempDir('resize-bicubic-');
  runPython('interpolate_reference.py', [dir, ...CASES.map((c) => c.join(':'))]);
});
after(() => dir && rmSync(dir, { recursive: true, force: true }));

for (const [h, w, c, oh, ow] of CASES) {
  for (const [suffix, mode] of Object.entries(MODES)) {
    test(`resizeBicubic ${h}x${w} -> ${oh}x${ow} (${c} channels, ${suffix}) equals PyTorch's F.interpolate within 1e-5`, { skip }, () => {
      const name = join(dir, [h, w, c, oh, ow].join('_'));
      const got = resizeBicubic(readFloats(`${name}.input.bin`), h, w, c, oh, ow, mode);
      const want = readFloats(`${name}.${suffix}.bin`);
      assert.equal(got.length, want.length);
      assert.ok(maxAbsDiff(got, want) < 1e-5, `max abs difference ${maxAbsDiff(got, want)}`);
    });
  }
}

test('resizeBicubic: the three modes give different grids (each test above can tell them apart)', { skip }, () => {
  const [h, w, c, oh, ow] = CASES[0];
  const name = join(dir, [h, w, c, oh, ow].join('_'));
  const refs = Object.keys(MODES).map((suffix) => readFloats(`${name}.${suffix}.bin`));
  for (let a = 0; a < refs.length; a++) for (let b = a + 1; b < refs.length; b++) assert.ok(maxAbsDiff(refs[a], refs[b]) > 1e-2, `modes ${a} and ${b} differ by ${maxAbsDiff(refs[a], refs[b])}`);
});

test('resizeBicubic: the same size is the identity, a wrong length a clear error', () => {
  const x = Float32Array.from({ length: 3 * 4 * 2 }, (_, i) => Math.sin(i));
  for (const mode of Object.values(MODES)) assert.ok(maxAbsDiff(resizeBicubic(x, 3, 4, 2, 3, 4, mode), x) < 1e-6);
  assert.throws(() => resizeBicubic(x, 3, 3, 2, 5, 5), /24 values are not a 3x3 grid of 2 channels/);
  assert.throws(() => resizeBicubic(x, 3, 4, 2, 5, 5, { antialias: true, alignCorners: true }), /antialias with alignCorners is not implemented/);
});
