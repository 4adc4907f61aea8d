import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { initBackend } from '../../../src/ml/backend.ts';
import { buildModel } from '../../../src/ml/models/index.ts';
import { createPredictor } from '../../../src/ml/inference/predictor.ts';
import { ortPoolSpin, ortSpinMode, sampleFreeCpus, spinWhenFree, SPIN_DURATION_US } from '../../../src/ml/onnx/pool-spin.ts';
import type { OnnxRuntime, OrtSessionOptions, OrtTensor } from '../../../src/ml/onnx/runtime.ts';
import { OrtTrainer, trainLossOf } from '../../../src/ml/onnx/training/ort-trainer.ts';
import { onnxRuntimeTrainer } from '../../../src/ml/training/train-engine.ts';

const noSample = () => assert.fail('no sample is needed');

test('PIPELINE_ORT_SPIN: unset or empty is auto; auto, on, off in any case; anything else names the variable and the value', () => {
  assert.equal(ortSpinMode({}), 'auto');
  assert.equal(ortSpinMode({ PIPELINE_ORT_SPIN: '' }), 'auto');
  assert.equal(ortSpinMode({ PIPELINE_ORT_SPIN: 'on' }), 'on');
  assert.equal(ortSpinMode({ PIPELINE_ORT_SPIN: 'OFF' }), 'off');
  assert.equal(ortSpinMode({ PIPELINE_ORT_SPIN: ' auto ' }), 'auto');
  assert.throws(() => ortSpinMode({ PIPELINE_ORT_SPIN: 'yes' }), /^Error: PIPELINE_ORT_SPIN must be auto, on or off, got "yes"$/);
  assert.throws(() => ortSpinMode({ PIPELINE_ORT_SPIN: '1' }), /PIPELINE_ORT_SPIN must be auto, on or off, got "1"/);
});

test('auto spins when the free CPUs cover the pool threads, within a quarter CPU', () => {
  const cases: [free: number, threads: number, spins: boolean][] = [
    [2, 2, true],
    [1.8, 2, true],
    [1.7, 2, false],
    [1, 2, false], // another job holds one of two cores
    [0.6, 2, false],
    [4, 4, true],
    [2, 3, false], // more threads than cores
    [2, 1, false], // one thread: no pool
  ];
  for (const [free, threads, spins] of cases) assert.equal(spinWhenFree(free, threads), spins, `${free} free CPUs, ${threads} threads`);
});

test('the pool policy: none for one thread, forced on/off without sampling, auto from the sample', async () => {
  assert.equal(await ortPoolSpin(1, 'auto', noSample), undefined);
  assert.equal(await ortPoolSpin(1, 'on', noSample), undefined);
  assert.deepEqual(await ortPoolSpin(2, 'on', noSample), {
    spinning: true,
    reason: 'spinning (PIPELINE_ORT_SPIN=on)',
    config: { session: { intra_op: { allow_spinning: '1', spin_duration_us: String(SPIN_DURATION_US) } } },
  });
  assert.deepEqual(await ortPoolSpin(2, 'off', noSample), { spinning: false, reason: 'sleeping (PIPELINE_ORT_SPIN=off)', config: { session: { intra_op: { allow_spinning: '0' } } } });
  const cores = availableParallelism();
  const idle = await ortPoolSpin(2, 'auto', async () => 2);
  assert.equal(idle?.spinning, true);
  assert.equal(idle?.reason, `spinning (2.0 of ${cores} CPUs free)`);
  const busy = await ortPoolSpin(2, 'auto', async () => 0.6);
  assert.equal(busy?.reason, `sleeping (0.6 of ${cores} CPUs free)`);
  assert.deepEqual(busy?.config, { session: { intra_op: { allow_spinning: '0' } } });
});

test('the free-CPU sample is a number of CPUs this process may use', async () => {
  const free = await sampleFreeCpus(30);
  assert.ok(Number.isFinite(free) && free >= 0 && free <= availableParallelism(), `free CPUs ${free}`);
});

/** A stand-in runtime that records the options of every session created. */
function recordingRuntime(): { runtime: OnnxRuntime; created: OrtSessionOptions[] } {
  const created: OrtSessionOptions[] = [];
  class Tensor implements OrtTensor {
    constructor(
      readonly type: 'float32',
      readonly data: Float32Array,
      readonly dims: readonly number[],
    ) {}
  }
  const runtime: OnnxRuntime = {
    Tensor,
    InferenceSession: {
      async create(_model, options = {}) {
        created.push(options);
        return { run: async () => assert.fail('not run'), release: async () => undefined };
      },
    },
    env: {},
  };
  return { runtime, created };
}

test('the trainer and the predictor pass the pool policy to the session they create', async () => {
  await initBackend('cpu');
  const model = buildModel({ arch: 'small-cnn', inputSize: 16, channels: 1, classes: 2, task: 'binary', width: 0.25 });
  const { runtime, created } = recordingRuntime();
  const make = (threads: number, spin: 'on' | 'off') => OrtTrainer.create(model, { loss: trainLossOf('bce', 'binary'), optimizer: { name: 'adam' }, threads, runtime, nchwc: false, spin });
  const spinning = await make(2, 'on');
  assert.equal(spinning.pool, 'spinning (PIPELINE_ORT_SPIN=on)');
  assert.equal((await make(2, 'off')).pool, 'sleeping (PIPELINE_ORT_SPIN=off)');
  assert.equal((await make(1, 'on')).pool, undefined);
  assert.deepEqual(
    created.map((o) => [o.intraOpNumThreads, 'extra' in o ? o.extra : 'no extra']),
    [
      [2, { session: { intra_op: { allow_spinning: '1', spin_duration_us: String(SPIN_DURATION_US) } } }],
      [2, { session: { intra_op: { allow_spinning: '0' } } }],
      [1, 'no extra'], // the binding rejects extra: undefined
    ],
  );
  const logs: string[] = [];
  await createPredictor(model, { engine: 'onnxruntime', threads: 2, spin: 'on', loadRuntime: async () => runtime, log: (m) => logs.push(m) });
  assert.deepEqual(created.at(-1)?.extra, { session: { intra_op: { allow_spinning: '1', spin_duration_us: String(SPIN_DURATION_US) } } });
  assert.deepEqual(logs, ['inference engine: onnxruntime (2 threads, pool spinning (PIPELINE_ORT_SPIN=on))']);
});

test('a bad PIPELINE_ORT_SPIN fails training and inference instead of making auto fall back to tfjs', async () => {
  await initBackend('cpu');
  const model = buildModel({ arch: 'small-cnn', inputSize: 16, channels: 1, classes: 2, task: 'binary', width: 0.25 });
  const saved = process.env.PIPELINE_ORT_SPIN;
  process.env.PIPELINE_ORT_SPIN = 'fast';
  try {
    const logs: string[] = [];
    const trainer = onnxRuntimeTrainer({ engine: 'auto', threads: 2, log: (m) => logs.push(m) }, () => assert.fail('no trainer is created'));
    await assert.rejects(trainer, /PIPELINE_ORT_SPIN must be auto, on or off, got "fast"/);
    await assert.rejects(createPredictor(model, { engine: 'auto', threads: 2, log: (m) => logs.push(m) }), /PIPELINE_ORT_SPIN must be auto, on or off, got "fast"/);
    assert.deepEqual(logs, []);
  } finally {
    if (saved === undefined) delete process.env.PIPELINE_ORT_SPIN;
    else process.env.PIPELINE_ORT_SPIN = saved;
  }
});
