import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ratioLines } from '../../bench/anomaly-ratio.ts';

const side = (over: Record<string, unknown> = {}) => ({
  threads: 2,
  size: 64,
  batch: 32,
  steps: 10,
  width: 0.5,
  bottleneck: 16,
  images: 'file',
  params: { generator: 69617, critic: 61249 },
  rates: { wgan: { wall: 400, cpu: 200 }, scoring: { wall: 1000, cpu: 500 } },
  ...over,
});

test('ratios ours / PyTorch per wall and per CPU second, for the phases both sides report', () => {
  const lines = ratioLines(side(), side({ rates: { wgan: { wall: 500, cpu: 400 }, encoder: { wall: 1, cpu: 1 } } }));
  assert.deepEqual(lines, ['  2 thread(s), parameters generator 69617, critic 61249 on both sides:', '    wgan 400 vs 500 img/s = 0.80x (per CPU s 200 vs 400 = 0.50x)']);
});

test('a ratio of two different networks or settings is refused, naming the difference', () => {
  assert.throws(() => ratioLines(side(), side({ params: { generator: 69617, critic: 61250 } })), /parameter counts differ: .*"critic":61249.*"critic":61250/);
  assert.throws(() => ratioLines(side(), side({ threads: 1, steps: 5 })), /ran differently: threads 2 vs 1, steps 10 vs 5/);
  assert.throws(() => ratioLines(side({ lipschitz: 'spectral' }), side()), /lipschitz "spectral" vs undefined/);
  assert.throws(() => ratioLines(side(), side({ rates: { train: { wall: 1, cpu: 1 } } })), /no rate on both sides/);
});

test('a difference named on purpose (another recipe) is allowed and named in the lines; an unknown name is refused', () => {
  const lines = ratioLines(side({ lipschitz: 'spectral' }), side({ lipschitz: 'gp' }), ['lipschitz']);
  assert.equal(lines[0], '  2 thread(s), parameters generator 69617, critic 61249 on both sides, lipschitz "spectral" vs "gp":');
  assert.equal(lines.length, 3);
  assert.throws(() => ratioLines(side(), side({ steps: 5 }), ['lipschitz']), /ran differently: steps 10 vs 5/);
  assert.throws(() => ratioLines(side(), side(), ['lipshitz']), /not a setting the sides report: lipshitz/);
});
