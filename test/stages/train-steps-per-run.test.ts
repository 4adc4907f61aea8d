import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainStage } from '../../src/stages/train.ts';
import { runStage, tempStore } from '../../src/testing/harness.ts';
import { STEPS_PER_RUN_ENV } from '../../src/ml/onnx/training/steps-per-run.ts';
import { loadOnnxRuntime } from '../../src/ml/onnx/runtime.ts';
import type { Store } from '../../src/store/store.ts';
import { abortingStore, copyBlobs } from './train-helpers.ts';
import { syntheticDataset } from './train-fixtures.ts';

const needsOrt = { skip: (await loadOnnxRuntime()) ? false : 'onnxruntime-node is not installed' };
// batch 6 over the fold's training rows: groups of 4 equal batches, then single steps for the rest and the smaller last batch
const params = { model: 'small-cnn', width: 0.5, size: 32, batch: 6, lr: 3e-3, seed: 5, backend: 'wasm', engine: 'onnxruntime', fold: 0, augment: true, mixup: 0.2, label_smoothing: 0.1 } as const;

/** Runs the stage with PIPELINE_ORT_STEPS_PER_RUN set to `steps` (restored after). */
async function withSteps<T>(steps: string, run: () => Promise<T>): Promise<T> {
  const before = process.env[STEPS_PER_RUN_ENV];
  process.env[STEPS_PER_RUN_ENV] = steps;
  try {
    return await run();
  } finally {
    if (before === undefined) delete process.env[STEPS_PER_RUN_ENV];
    else process.env[STEPS_PER_RUN_ENV] = before;
  }
}

test('4 optimizer steps per ONNX Runtime run train the bits of single steps (augment, mixup: the same random draws), and a killed run resumes to them', needsOrt, async () => {
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 72, 32, 2, 13);
  const inputs = () => [{ artifact: { kind: 'dataset' as const, rows, meta: { classes } } }];
  const train = (s: Store, epochs: number, signal?: AbortSignal) => runStage(trainStage, { store: s, signal, params: { ...params, epochs }, inputs: inputs() });
  const single = await withSteps('1', async () => train(await copyBlobs(store, rows), 2));
  const grouped = await withSteps('4', async () => train(await copyBlobs(store, rows), 2));
  assert.ok(grouped.logs.some((l) => l.includes('training engine: 4 optimizer steps per run')), grouped.logs.join('\n'));
  assert.ok(single.logs.every((l) => !l.includes('steps per run')), single.logs.join('\n'));
  const history = (r: typeof single) => (r.artifact.meta as Record<string, any>).history.map((h: any) => [h.train_loss, h.val_loss]);
  assert.deepEqual(history(grouped), history(single));
  assert.equal(grouped.artifact.files['weights.bin'], single.artifact.files['weights.bin']);
  const progress = grouped.metrics.filter((m) => m.name === 'train_loss');
  assert.equal(progress.length, 2);

  // killed after epoch 1's checkpoint, rerun: the same weights as the uninterrupted run
  const controller = new AbortController();
  const killedStore = await copyBlobs(store, rows);
  await withSteps('4', async () => assert.rejects(train(abortingStore(killedStore, 1, controller), 2, controller.signal), /killed/));
  const resumed = await withSteps('4', () => train(killedStore, 2));
  assert.ok(resumed.logs.some((l) => l.includes('resuming from the checkpoint of epoch 1')), resumed.logs.join('\n'));
  assert.equal(resumed.artifact.files['weights.bin'], single.artifact.files['weights.bin']);
});

test(`a bad ${STEPS_PER_RUN_ENV} is named, also with engine: auto (no silent fallback to tfjs)`, needsOrt, async () => {
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 24, 32, 2, 3);
  for (const engine of ['onnxruntime', 'auto']) {
    await withSteps('many', () =>
      assert.rejects(
        runStage(trainStage, { store, params: { ...params, engine, epochs: 1 }, inputs: [{ artifact: { kind: 'dataset' as const, rows, meta: { classes } } }] }),
        new RegExp(`${STEPS_PER_RUN_ENV} must be an integer from 1 to 64, got "many"`),
      ),
    );
  }
});
