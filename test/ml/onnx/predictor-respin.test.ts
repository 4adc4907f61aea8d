import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { createPredictor } from '../../../src/ml/inference/predictor.ts';
import { buildModel } from '../../../src/ml/models/index.ts';
import { PoolSpinGovernor } from '../../../src/ml/onnx/pool-respin.ts';
import { loadOnnxRuntime, type OnnxRuntime, type OrtSession } from '../../../src/ml/onnx/runtime.ts';

const ort = await loadOnnxRuntime();
const needsOrt = { skip: ort ? false : 'onnxruntime-node is not installed' };
const cores = availableParallelism();

/** The real runtime; records each session's pool and its release, and holds every run until `release()` of its gate when `gated`. */
function watched(gated = false) {
  const sessions: { pool: string; released: boolean }[] = [];
  const gates: (() => void)[] = [];
  const runtime: OnnxRuntime = {
    ...ort!,
    InferenceSession: {
      async create(model, options = {}) {
        const real = await ort!.InferenceSession.create(model, options);
        const entry = { pool: (options.extra as { session: { intra_op: { allow_spinning: string } } }).session.intra_op.allow_spinning === '1' ? 'spinning' : 'sleeping', released: false };
        sessions.push(entry);
        const session: OrtSession = {
          async run(feeds) {
            if (gated) await new Promise<void>((resolve) => gates.push(resolve));
            return real.run(feeds);
          },
          async release() {
            assert.equal(entry.released, false, 'a session is released once');
            entry.released = true;
            await real.release();
          },
        };
        return session;
      },
    },
  };
  return { runtime, sessions, gates };
}

const sampler = (values: number[]) => async () => values.shift() ?? assert.fail('one sample too many');
const model = () => buildModel({ arch: 'small-cnn', inputSize: 16, channels: 1, classes: 3, task: 'multilabel', width: 0.25, seed: 2 });
const batches = [1, 2, 3].map((seed) => tf.randomUniform([4, 16, 16, 1], 0, 1, 'float32', seed).dataSync() as Float32Array);

test('a predictor re-decides its pool between batches: two samples calling for sleeping move the next batches to a sleeping session, with the same scores', needsOrt, async () => {
  await initBackend('cpu');
  const m = model();
  const { runtime, sessions } = watched();
  const logs: string[] = [];
  const predictor = await createPredictor(m, { engine: 'onnxruntime', threads: 2, governor: new PoolSpinGovernor(2, 'auto', sampler([2, 0.5, 0.5, 2])), recheckMs: 0, loadRuntime: async () => runtime, log: (l) => logs.push(l) });
  const scores: Float32Array[] = [];
  for (const x of batches) scores.push(await predictor.predict(x, 4));
  assert.deepEqual(logs, [`inference engine: onnxruntime (2 threads, pool spinning (2.0 of ${cores} CPUs free))`, `ORT pool: now sleeping (0.5, then 0.5 of ${cores} CPUs free)`]);
  assert.deepEqual(sessions, [{ pool: 'spinning', released: true }, { pool: 'sleeping', released: false }]);
  await predictor.dispose();
  assert.equal(sessions[1].released, true);

  const fixed = await createPredictor(m, { engine: 'onnxruntime', threads: 2, spin: 'off', loadRuntime: async () => runtime });
  for (const [i, x] of batches.entries()) assert.deepEqual(await fixed.predict(x, 4), scores[i], `batch ${i + 1}`);
  await fixed.dispose();
  m.dispose();
});

test('the old session is released only when the batches running on it end; before the interval has passed nothing is sampled', needsOrt, async () => {
  await initBackend('cpu');
  const m = model();
  const { runtime, sessions, gates } = watched(true);
  const predictor = await createPredictor(m, { engine: 'onnxruntime', threads: 2, governor: new PoolSpinGovernor(2, 'auto', sampler([2, 0.5, 0.5])), recheckMs: 0, loadRuntime: async () => runtime });
  const first = predictor.predict(batches[0], 4); // rechecks (0.5: no change yet), then runs on the spinning session
  while (gates.length < 1) await new Promise((resolve) => setImmediate(resolve));
  const second = predictor.predict(batches[1], 4); // rechecks (0.5 again): a sleeping session while the first batch runs
  while (gates.length < 2) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(sessions, [{ pool: 'spinning', released: false }, { pool: 'sleeping', released: false }]);
  gates[0]();
  await first;
  assert.equal(sessions[0].released, true, 'released after its last batch');
  gates[1]();
  await second;
  await predictor.dispose();

  const quiet = await createPredictor(m, { engine: 'onnxruntime', threads: 2, governor: new PoolSpinGovernor(2, 'auto', sampler([2])), recheckMs: 1e9, loadRuntime: async () => watched().runtime });
  for (const x of batches) await quiet.predict(x, 4); // a second sample would fail
  await quiet.dispose();
  m.dispose();
});
