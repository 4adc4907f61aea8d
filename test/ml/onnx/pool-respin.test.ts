import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { PoolSpinGovernor, respinDecision, RESPIN_AFTER } from '../../../src/ml/onnx/pool-respin.ts';
import { FreeCpuMeter } from '../../../src/ml/onnx/pool-spin.ts';

/** A sampler giving `values` in turn; fails when asked once more. */
function samples(values: number[]): { sample: () => Promise<number>; taken: () => number } {
  let i = 0;
  return {
    sample: async () => {
      if (i >= values.length) assert.fail(`sample ${i + 1} asked for, ${values.length} given`);
      return values[i++];
    },
    taken: () => i,
  };
}

const cores = availableParallelism();

test(`the setting changes only when the last ${RESPIN_AFTER} samples since the last change all call for the other one`, () => {
  assert.equal(RESPIN_AFTER, 2);
  const cases: [spinning: boolean, samples: number[], threads: number, spins: boolean][] = [
    [true, [], 2, true],
    [true, [0.9], 2, true], // one window with another job in it
    [true, [0.9, 1.0], 2, false],
    [true, [0.9, 2.0], 2, true], // the other job is gone again
    [true, [0.9, 2.0, 1.1], 2, true],
    [true, [0.9, 2.0, 1.1, 1.2], 2, false],
    [true, [1.8, 1.76], 2, true], // within the quarter-CPU slack
    [false, [1.7, 1.8], 2, false],
    [false, [1.9, 1.8], 2, true],
    [false, [2.0, 2.0], 3, false], // more threads than free CPUs
    [false, [3.9, 4.0], 4, true],
    [false, [2.0, 2.0], 1, false], // one thread: no pool to spin
  ];
  for (const [spinning, given, threads, spins] of cases) assert.equal(respinDecision(spinning, given, threads), spins, `${spinning ? 'spinning' : 'sleeping'}, samples ${given.join(', ')}, ${threads} threads`);
});

test('auto: the first sample decides, each recheck samples once, the policy changes after two agreeing samples and the count starts again', async () => {
  const s = samples([2.0, 1.0, 2.0, 0.9, 0.8, 0.9, 1.9, 2.0]);
  const governor = new PoolSpinGovernor(2, 'auto', s.sample);
  const first = await governor.current();
  assert.equal(first?.reason, `spinning (2.0 of ${cores} CPUs free)`);
  assert.equal(await governor.current(), first, 'asked again before a recheck: the same decision, no sample');
  assert.equal(s.taken(), 1);
  const changes: (string | undefined)[] = [];
  for (let i = 0; i < 7; i++) changes.push((await governor.recheck())?.reason);
  assert.deepEqual(changes, [undefined, undefined, undefined, `sleeping (0.9, then 0.8 of ${cores} CPUs free)`, undefined, undefined, `spinning (1.9, then 2.0 of ${cores} CPUs free)`]);
  assert.equal(s.taken(), 8);
  const now = await governor.current();
  assert.equal(now?.spinning, true);
  assert.deepEqual(now?.config, { session: { intra_op: { allow_spinning: '1', spin_duration_us: '100' } } });
});

test('on and off never sample, at creation or at any recheck; one thread neither', async () => {
  for (const [threads, mode] of [[2, 'on'], [2, 'off'], [1, 'auto'], [1, 'on']] as const) {
    const governor = new PoolSpinGovernor(threads, mode, () => assert.fail(`${mode}, ${threads} thread(s): no sample`));
    const pool = await governor.current();
    for (let i = 0; i < 5; i++) assert.equal(await governor.recheck(), undefined);
    assert.equal((await governor.current())?.reason, pool?.reason);
    assert.equal(pool?.reason, threads === 1 ? undefined : `${mode === 'on' ? 'spinning' : 'sleeping'} (PIPELINE_ORT_SPIN=${mode})`);
  }
});

test('the meter: a window shorter than the minimum is waited out; every reading is a number of CPUs this process may use', async () => {
  const meter = new FreeCpuMeter();
  const started = performance.now();
  const first = await meter.next(40);
  assert.ok(performance.now() - started >= 39, 'the first window is waited out to 40 ms');
  await new Promise((resolve) => setTimeout(resolve, 20));
  const second = await meter.next(10); // a window of 20 ms since the last reading
  for (const free of [first, second]) assert.ok(Number.isFinite(free) && free >= 0 && free <= cores, `free CPUs ${free}`);
});
