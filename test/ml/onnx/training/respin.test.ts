import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import * as tf from '../../../../src/ml/tf.ts';
import { initBackend } from '../../../../src/ml/backend.ts';
import { buildModel, type ModelSpec } from '../../../../src/ml/models/index.ts';
import { buildFanogan, disposeFanogan } from '../../../../src/ml/anomaly/fanogan.ts';
import { OrtGanTrainer } from '../../../../src/ml/anomaly/gan-trainer-ort.ts';
import type { OnnxRuntime, OrtSessionOptions } from '../../../../src/ml/onnx/runtime.ts';
import { PoolSpinGovernor } from '../../../../src/ml/onnx/pool-respin.ts';
import type { OrtSpinMode } from '../../../../src/ml/onnx/pool-spin.ts';
import { OrtTrainer, trainLossOf } from '../../../../src/ml/onnx/training/ort-trainer.ts';
import { CheckpointStore } from '../../../../src/ml/training/checkpoint.ts';
import { runEpochs } from '../../../../src/ml/training/epoch-loop.ts';
import { tempStore } from '../../../../src/testing/harness.ts';
import { batch, needsOrt, ort } from './step-fixtures.ts';

const cores = availableParallelism();

/** The real runtime, recording the pool options of every step session (2 threads; not the one-thread NCHWc probe). */
function recording(): { runtime: OnnxRuntime; pools: string[] } {
  const pools: string[] = [];
  const runtime: OnnxRuntime = {
    ...ort!,
    InferenceSession: {
      create(model, options: OrtSessionOptions = {}) {
        if (options.intraOpNumThreads === 2) pools.push(JSON.stringify(options.extra));
        return ort!.InferenceSession.create(model, options);
      },
    },
  };
  return { runtime, pools };
}

const SPINNING = JSON.stringify({ session: { intra_op: { allow_spinning: '1', spin_duration_us: '100' } } });
const SLEEPING = JSON.stringify({ session: { intra_op: { allow_spinning: '0' } } });

/** A sampler giving `values` in turn (fails when asked once more), or one that must not be asked. */
const sampler = (values: number[] | 'never') => {
  let i = 0;
  return async () => (values !== 'never' && i < values.length ? values[i++] : assert.fail(`free-CPU sample ${i + 1} asked for`));
};

const spec: ModelSpec = { arch: 'small-cnn', inputSize: 16, channels: 1, classes: 2, task: 'multilabel', seed: 3, width: 0.25 };

/** Five epochs of four Adam steps through the epoch loop; the final weights and optimizer state, the epoch losses and the log. */
async function train(mode: OrtSpinMode, samples: number[] | 'never') {
  const model = buildModel(spec);
  const { runtime, pools } = recording();
  const governor = new PoolSpinGovernor(2, mode, sampler(samples));
  const trainer = await OrtTrainer.create(model, { loss: trainLossOf('bce', spec.task), optimizer: { name: 'adam' }, threads: 2, runtime, governor });
  const data = [0, 1, 2, 3].map((seed) => batch(spec, 4, 10 + seed));
  const log: string[] = [];
  const result = await runEpochs(
    {
      model,
      trainRows: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
      config: { epochs: 5, batch: 4, seed: 1, optimizer: 'adam', lr: 1e-2, momentum: 0, schedule: { type: 'constant' }, monitor: 'val_loss', earlyStopping: null },
      checkpoints: new CheckpointStore(await tempStore(), 'respin'),
      trainer,
      signal: new AbortController().signal,
      log: (m) => log.push(m),
      onEpoch: () => undefined,
      onProgress: () => undefined,
    },
    {
      order: (rows) => [...rows],
      load: async (rows) => data[rows[0] / 4],
      step: (b, rows, { lr }) => trainer.step(b.xs, b.ys, rows.length, lr),
      validate: async () => ({}),
    },
  );
  trainer.writeToModel();
  const weights = model.weights.map((w) => Array.from(w.read().dataSync()));
  const state = trainer.getOptimizerWeights();
  const optimizerState = state.map((t) => Array.from(t.tensor.dataSync())); // the names carry each model's variable numbering
  tf.dispose(state.map((t) => t.tensor));
  await trainer.dispose();
  model.dispose();
  for (const b of data) tf.dispose([b.x, b.y]);
  return { weights, optimizerState, losses: result.history.map((h) => h.train_loss), log, pools };
}

test('a training whose free-CPU samples change mid-run moves to a sleeping, then a spinning session at epoch starts and ends bit-identical to one that never changes', needsOrt, async () => {
  await initBackend('wasm');
  // at creation 2.0 free: spinning; epoch starts 2-5: 0.9, 0.8 (sleeping from epoch 3), 1.9, 2.0 (spinning from epoch 5)
  const changing = await train('auto', [2.0, 0.9, 0.8, 1.9, 2.0]);
  assert.deepEqual(changing.log, [`ORT pool: now sleeping (0.9, then 0.8 of ${cores} CPUs free)`, `ORT pool: now spinning (1.9, then 2.0 of ${cores} CPUs free)`]);
  assert.deepEqual(changing.pools, [SPINNING, SLEEPING, SPINNING]);
  for (const mode of ['off', 'on'] as const) {
    const fixed = await train(mode, 'never');
    assert.deepEqual(fixed.pools, [mode === 'on' ? SPINNING : SLEEPING], `${mode}: one session, no sample`);
    assert.deepEqual(fixed.log, []);
    assert.deepEqual(changing.losses, fixed.losses, `epoch losses against ${mode}`);
    assert.deepEqual(changing.weights, fixed.weights, `weights against ${mode}`);
    assert.deepEqual(changing.optimizerState, fixed.optimizerState, `optimizer state against ${mode}`);
  }
});

test("f-AnoGAN's WGAN: both step sessions move together and the steps continue on the same bits", needsOrt, async () => {
  await initBackend('wasm');
  const ganSpec = { inputSize: 32, channels: 1 as const, seed: 5, width: 0.25, bottleneck: 4, kappa: 1 };
  const x = tf.randomUniform([4, 32, 32, 1], 0, 1, 'float32', 2).dataSync() as Float32Array;
  const run = async (governor: PoolSpinGovernor) => {
    const gan = buildFanogan(ganSpec);
    const { runtime, pools } = recording();
    const trainer = await OrtGanTrainer.create(gan, { nCritic: 2, lipschitz: 'spectral', clip: 0.05, seed: 1 }, runtime, 2, governor);
    const losses: number[] = [];
    const log: (string | undefined)[] = [];
    for (let step = 0; step < 8; step++) {
      if (step % 2 === 0 && step > 0) log.push(await trainer.recheckPool());
      losses.push(await trainer.step(x, x, 4, 1e-3));
    }
    losses.push(trainer.takeGeneratorLosses().mean!);
    trainer.writeToModel();
    const weights = gan.bundle.weights.map((w) => Array.from(w.read().dataSync()));
    await trainer.dispose();
    disposeFanogan(gan);
    return { losses, weights, pools, log };
  };
  const changing = await run(new PoolSpinGovernor(2, 'auto', sampler([0.5, 1.9, 2.0, 2.0])));
  assert.deepEqual(changing.pools, [SLEEPING, SLEEPING, SPINNING, SPINNING], 'the critic and the generator sessions, at creation and after the change');
  assert.deepEqual(changing.log, [undefined, `ORT pool: now spinning (1.9, then 2.0 of ${cores} CPUs free)`, undefined]);
  const fixed = await run(new PoolSpinGovernor(2, 'off', sampler('never')));
  assert.deepEqual(fixed.pools, [SLEEPING, SLEEPING]);
  assert.deepEqual(changing.losses, fixed.losses);
  assert.deepEqual(changing.weights, fixed.weights);
});
