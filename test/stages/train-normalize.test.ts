import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainStage } from '../../src/stages/train.ts';
import { runStage, tempStore } from '../../src/testing/harness.ts';
import { loadExperiment } from '../../src/experiment/load.ts';
import { DiagnosticError } from '../../src/engine/diagnostics.ts';
import { inputNormalizationOf } from '../../src/ml/layers/input-normalization.ts';
import { loadModel } from '../../src/ml/model-io.ts';
import { loadOnnxRuntime } from '../../src/ml/onnx/runtime.ts';
import type { Store } from '../../src/store/store.ts';
import { workspace } from '../support/workspace.ts';
import { abortingStore, copyBlobs } from './train-helpers.ts';
import { syntheticDataset } from './train-fixtures.ts';

const needsOrt = { skip: (await loadOnnxRuntime()) ? false : 'onnxruntime-node is not installed' };
const base = { model: 'small-cnn', width: 0.5, size: 32, batch: 16, lr: 3e-3, seed: 3, backend: 'wasm', fold: 0 } as const;

test('normalize: symmetric trains on ONNX Runtime as on tfjs, and the saved model carries the layer', needsOrt, async () => {
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 48, 32, 2, 11);
  const run = async (s: Store, engine: string) => runStage(trainStage, { store: s, params: { ...base, epochs: 2, normalize: 'symmetric', engine, inference: engine }, inputs: [{ artifact: { kind: 'dataset' as const, rows, meta: { classes } } }] });
  const ort = await run(store, 'onnxruntime');
  const tfjs = await run(await copyBlobs(store, rows), 'tfjs');
  assert.ok(ort.logs.some((l) => l.includes('training engine: onnxruntime')), ort.logs.join('\n'));
  assert.ok(ort.logs.some((l) => l.includes('inference engine: onnxruntime')), ort.logs.join('\n'));
  const [a, b] = [tfjs, ort].map((r) => (r.artifact.meta as Record<string, any>).history);
  for (const [i, h] of a.entries()) assert.ok(Math.abs(b[i].train_loss - h.train_loss) < 1e-3 * h.train_loss && Math.abs(b[i].val_loss - h.val_loss) < 1e-3 * h.val_loss, `epoch ${i + 1}: ${JSON.stringify(b[i])} vs ${JSON.stringify(h)}`);
  assert.deepEqual((ort.artifact.meta as Record<string, any>).normalize, { mean: [0.5], std: [0.5] });
  const model = await loadModel(store, ort.artifact);
  assert.deepEqual(inputNormalizationOf(model), { mean: [0.5], std: [0.5] });
  model.dispose();
});

test('checkpoints: normalize is part of the key (none = left out), and a run with it resumes after a kill', async () => {
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 32, 32, 2, 5);
  const train = (s: Store, extra: Record<string, unknown>, signal?: AbortSignal) => runStage(trainStage, { store: s, signal, params: { ...base, engine: 'tfjs', inference: 'tfjs', ...extra }, inputs: [{ artifact: { kind: 'dataset' as const, rows, meta: { classes } } }] });
  const resumed = (r: Awaited<ReturnType<typeof train>>) => r.logs.some((l) => l.includes('resuming from the checkpoint of epoch 2'));
  await train(store, { epochs: 2 });
  assert.ok(resumed(await train(store, { epochs: 3, normalize: 'none' })), 'normalize: none is the default model');
  assert.ok(!resumed(await train(store, { epochs: 3, normalize: 'symmetric' })), 'another normalisation is another model');

  const fresh = await copyBlobs(store, rows);
  const controller = new AbortController();
  await assert.rejects(train(abortingStore(fresh, 2, controller), { epochs: 3, normalize: { mean: [0.4], std: [0.3] } }, controller.signal), /killed/);
  const again = await train(fresh, { epochs: 3, normalize: { mean: [0.4], std: [0.3] } });
  assert.ok(resumed(again), again.logs.join('\n'));
  assert.deepEqual((again.artifact.meta as Record<string, any>).history.map((h: any) => h.epoch), [1, 2, 3]);
});

test('from: { init } trained with another normalisation: a warning names both', async () => {
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 24, 32, 2, 13);
  const data = { name: 'data', artifact: { kind: 'dataset' as const, rows, meta: { classes } } };
  const first = await runStage(trainStage, { store, params: { ...base, epochs: 1, engine: 'tfjs', normalize: 'symmetric' }, inputs: [data] });
  const next = await runStage(trainStage, { store, params: { ...base, epochs: 1, engine: 'tfjs' }, inputs: [data, { name: 'init', artifact: first.artifact }] });
  assert.ok(next.logs.some((l) => /the model of init was trained with input normalisation \(x - \[0\.5\]\) \/ \[0\.5\], this model uses none/.test(l)), next.logs.join('\n'));
  const same = await runStage(trainStage, { store, params: { ...base, epochs: 1, engine: 'tfjs', normalize: 'symmetric', lr: 1e-4 }, inputs: [data, { name: 'init', artifact: first.artifact }] });
  assert.ok(!same.logs.some((l) => l.includes('input normalisation')), same.logs.join('\n'));
});

test('a mean or std that does not fit the channels is a located error', async () => {
  await assert.rejects(runStage(trainStage, { store: await tempStore(), params: { channels: 3, normalize: { mean: [0.5, 0.5], std: [0.5] } } }), /invalid params for train: normalize\.mean: mean has 2 entries for 3 input channels/);
  const ws = await workspace('stages:\n  train:\n    uses: train\n    with:\n      channels: 1\n      normalize: { mean: [0.5], std: [0.2, 0.3, 0.4] }\n');
  const err = await loadExperiment(ws.file).then(
    () => assert.fail('expected the experiment to be rejected'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DiagnosticError, String(err));
  const [d] = err.diagnostics;
  assert.match(d.message, /with\.normalize\.std: std has 3 entries for 1 input channel \(give one\)/);
  assert.equal(d.location?.line, 6);
  // the detector and the anomaly models are not zoo classifiers: refused, not ignored
  await assert.rejects(runStage(trainStage, { store: await tempStore(), params: { task: 'anomaly', normalize: 'symmetric' } }), /normalize is for classification, not task: anomaly/);
  await assert.rejects(runStage(trainStage, { store: await tempStore(), params: { task: 'detection', model: 'csp-nano', normalize: 'imagenet', channels: 3 } }), /normalize is for classification, not task: detection/);
});
