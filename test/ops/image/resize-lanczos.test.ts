import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lanczos4Weights, resizeLanczos4 } from '../../../src/ops/image/resize-lanczos.ts';
import { grey16, grey8, toRows } from './helpers.ts';

/** Lanczos-4 kernel sinc(t)·sinc(t/4), in float64 straight from the definition. */
const kernel = (t: number) => (t === 0 ? 1 : (Math.sin(Math.PI * t) * Math.sin((Math.PI * t) / 4)) / ((Math.PI * t) ** 2 / 4));

test('lanczos4Weights are the normalised sinc(t)·sinc(t/4) of taps floor - 3 .. floor + 4', () => {
  for (const x of [0.25, 0.5, 0.75]) {
    const raw = Array.from({ length: 8 }, (_, i) => kernel(x + 3 - i));
    const sum = raw.reduce((s, v) => s + v, 0);
    const w = lanczos4Weights(x);
    raw.forEach((v, i) => assert.ok(Math.abs(w[i] - v / sum) < 1e-6, `x=${x} tap ${i}: ${w[i]} vs ${v / sum}`));
  }
  // x = 0.5 by hand: symmetric, 0.618877 on the two nearest pixels, -0.166011 next, 0.059764, -0.01263
  assert.ok(Math.abs(lanczos4Weights(0.5)[3] - 0.618877) < 1e-6);
  assert.ok(Math.abs(lanczos4Weights(0.5)[2] + 0.166011) < 1e-6);
  // On a pixel: that pixel only (OpenCV weighs it 1e30 before normalising, so the others are ~1e-31, not 0)
  const on = lanczos4Weights(0);
  assert.equal(on[3], 1);
  on.forEach((v, i) => i !== 3 && assert.ok(Math.abs(v) < 1e-20, `tap ${i}: ${v}`));
});

test('resizeLanczos4 shrinking by 3 takes each block centre (source positions fall on pixels)', () => {
  // dst x -> src (x + .5) * 3 - .5 = 3x + 1
  assert.deepEqual(toRows(resizeLanczos4(grey8([[10, 20, 30, 40, 50, 60]]), 2, 1)), [[20, 50]]);
  assert.deepEqual(toRows(resizeLanczos4(grey8([[0, 10, 20], [30, 40, 50], [60, 70, 80]]), 1, 1)), [[40]]);
  assert.deepEqual(toRows(resizeLanczos4(grey16([[1000, 2000, 3000, 40000, 50000, 60000]]), 2, 1)), [[2000, 50000]]);
});

test('resizeLanczos4 enlarging replicates the edge pixels and saturates the undershoot', () => {
  // [0, 100] -> 4 px: src x = -.25, .25, .75, 1.25. Weights at fraction .75 (taps -4..3 -> 0,0,0,0,0,1,1,1):
  // 100 * (w5 + w6 + w7) = 100 * (-.152304 + .055449 - .015054) = -11.2 -> 0; at .25 (taps -3..4):
  // 100 * (.282684 - .091661 + .031468 - .003971) = 21.85 -> 22; at .75: 100 * (.893389 - .152304 +
  // .055449 - .015054) = 78.15 -> 78; at 1.25 (taps -2..5): 100 * (.893389 + .282684 - .091661 + .031468 -
  // .003971) = 111.19 -> 111 (Lanczos overshoots the edge value). The same as cv2.INTER_LANCZOS4.
  assert.deepEqual(toRows(resizeLanczos4(grey8([[0, 100]]), 4, 1)), [[0, 22, 78, 111]]);
  // 16-bit, float weights: 218.5, 781.5, 1111.9 (cv2 gives the same)
  assert.deepEqual(toRows(resizeLanczos4(grey16([[0, 1000]]), 4, 1)), [[0, 219, 781, 1112]]);
  // Same along columns
  assert.deepEqual(toRows(resizeLanczos4(grey8([[0], [100]]), 1, 4)), [[0], [22], [78], [111]]);
});

test('resizeLanczos4 keeps a flat image flat and handles channels', () => {
  const flat = grey8(Array.from({ length: 5 }, () => [200, 200, 200, 200, 200, 200, 200]));
  for (const [w, h] of [[3, 2], [11, 9], [1, 1]]) {
    assert.ok(resizeLanczos4(flat, w, h).data.every((v) => v === 200), `${w}x${h}`);
  }
  const rgb = { data: Uint8Array.from([0, 50, 250, 100, 50, 0]), width: 2, height: 1, channels: 3 };
  const out = resizeLanczos4(rgb, 4, 1);
  assert.equal(out.channels, 3);
  // channel 0 is [0, 100] as above; channel 1 is flat
  assert.deepEqual(Array.from(out.data.filter((_, i) => i % 3 === 0)), [0, 22, 78, 111]);
  assert.deepEqual(Array.from(out.data.filter((_, i) => i % 3 === 1)), [50, 50, 50, 50]);
});
