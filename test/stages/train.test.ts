import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainStage } from '../../src/stages/train.ts';
import { stuckWatch } from '../../src/stages/train.run.ts';
import type { StageContext } from '../../src/engine/stage.ts';
import type { EpochRecord } from '../../src/ml/training/checkpoint.ts';
import { runStage, tempStore } from '../../src/testing/harness.ts';
import { abortingStore, copyBlobs } from './train-helpers.ts';
import type { Store } from '../../src/store/store.ts';
import { loadModel } from '../../src/ml/model-io.ts';
import * as tf from '../../src/ml/tf.ts';
import { syntheticDataset } from './train-fixtures.ts';

const base = { model: 'small-cnn', width: 0.5, size: 32, batch: 16, lr: 3e-3, seed: 3, backend: 'wasm' } as const;

test('trains a multi-label small CNN on one fold: learns the findings, emits per-epoch metrics, saves a loadable model', async () => {
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 96, 32, 3);
  const result = await runStage(trainStage, {
    store,
    params: { ...base, epochs: 4, augment: { rotation: 5, hflip: false }, label_smoothing: 0.05 },
    inputs: [{ name: 'split', artifact: { kind: 'dataset', rows, meta: { classes } } }],
    vars: { fold: 1 },
  });
  const meta = result.artifact.meta as Record<string, any>;
  assert.equal(result.artifact.kind, 'model');
  assert.deepEqual(meta.classes, classes);
  assert.equal(meta.task, 'multilabel');
  assert.equal(meta.fold, 1);
  assert.deepEqual(meta.rows, { train: 64, val: 32 });
  assert.equal(meta.history.length, 4);
  const aucSteps = result.metrics.filter((m) => m.name === 'val_auc').map((m) => m.step);
  assert.deepEqual(aucSteps, [1, 2, 3, 4]);
  assert.ok(meta.metrics.val_auc > 0.85, `best val AUC ${meta.metrics.val_auc}`);
  assert.equal(meta.metrics.val_auc, Math.max(...meta.history.map((h: any) => h.val_auc)));
  const model = await loadModel(store, result.artifact);
  assert.deepEqual(model.outputs[0].shape, [null, 3]);
  const seconds = result.metrics.filter((m) => m.name === 'epoch_seconds').map((m) => m.value.toFixed(1));
  assert.equal(seconds.length, 4);
  console.log(`val AUC per epoch: ${meta.history.map((h: any) => h.val_auc.toFixed(3)).join(' ')}, ${seconds.join('/')} s`);
  model.dispose();
});


test('a run aborted after epoch 2 resumes from that checkpoint when rerun with 3 epochs', async () => {
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 48, 32, 2, 7);
  const inputs = [{ artifact: { kind: 'dataset' as const, rows, meta: { classes } } }];
  const controller = new AbortController();
  await assert.rejects(
    runStage(trainStage, { store: abortingStore(store, 2, controller), signal: controller.signal, params: { ...base, epochs: 3, fold: 0 }, inputs }),
    /killed/,
  );
  const resumed = await runStage(trainStage, { store, params: { ...base, epochs: 3, fold: 0 }, inputs });
  assert.ok(resumed.logs.some((l) => l.includes('resuming from the checkpoint of epoch 2')), resumed.logs.join('\n'));
  assert.deepEqual(resumed.metrics.filter((m) => m.name === 'train_loss').map((m) => m.step), [3]);
  const meta = resumed.artifact.meta as Record<string, any>;
  assert.deepEqual(meta.history.map((h: any) => h.epoch), [1, 2, 3]);

  // The same three epochs run in one go give the same history (resume is exact).
  const fresh = await runStage(trainStage, { params: { ...base, epochs: 3, fold: 0 }, inputs: [{ artifact: { kind: 'dataset', rows, meta: { classes } } }], store: await copyBlobs(store, rows) });
  const freshMeta = fresh.artifact.meta as Record<string, any>;
  for (const [i, h] of freshMeta.history.entries()) assert.ok(Math.abs(h.train_loss - meta.history[i].train_loss) < 1e-4, `epoch ${i + 1}: ${h.train_loss} vs ${meta.history[i].train_loss}`);
});

test('training is reproducible: the same inputs, params and seed give a byte-identical model artifact', async () => {
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 32, 32, 2, 3);
  const run = async (s: Store) => (await runStage(trainStage, { store: s, params: { ...base, epochs: 2, fold: 0 }, inputs: [{ artifact: { kind: 'dataset', rows, meta: { classes } } }] })).artifact;
  const [a, b] = [await run(store), await run(await copyBlobs(store, rows))];
  assert.equal(a.files['weights.bin'], b.files['weights.bin']);
  assert.equal(a.digest, b.digest, 'no timings or other run-dependent values in the artifact');
});


test('validation on onnxruntime gives the tfjs metrics, and a checkpoint made under one engine resumes under the other', async () => {
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 48, 32, 2, 11);
  const inputs = () => [{ artifact: { kind: 'dataset' as const, rows, meta: { classes } } }];
  const run = async (s: Store, inference: string, epochs: number) => runStage(trainStage, { store: s, params: { ...base, epochs, fold: 0, inference }, inputs: inputs() });
  const tfjs = await run(store, 'tfjs', 2);
  const ort = await run(await copyBlobs(store, rows), 'onnxruntime', 2);
  assert.ok(ort.logs.some((l) => l.includes('inference engine: onnxruntime')), ort.logs.join('\n'));
  const [a, b] = [tfjs, ort].map((r) => (r.artifact.meta as Record<string, any>).history);
  for (const [i, h] of a.entries()) {
    assert.equal(b[i].train_loss, h.train_loss, 'training does not depend on the validation engine');
    assert.ok(Math.abs(b[i].val_loss - h.val_loss) < 1e-5 && Math.abs(b[i].val_auc - h.val_auc) < 1e-5, `epoch ${i + 1}: ${JSON.stringify(b[i])} vs ${JSON.stringify(h)}`);
  }
  const resumed = await run(store, 'onnxruntime', 3);
  assert.ok(resumed.logs.some((l) => l.includes('resuming from the checkpoint of epoch 2')), resumed.logs.join('\n'));
});

test('training steps on onnxruntime follow the tfjs ones, checkpoints resume across engines, auto falls back to tfjs with workers: 2', async () => {
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 48, 32, 2, 11);
  const inputs = () => [{ artifact: { kind: 'dataset' as const, rows, meta: { classes } } }];
  const run = async (s: Store, engine: string, epochs: number, extra: object = {}) => runStage(trainStage, { store: s, params: { ...base, epochs, fold: 0, engine, ...extra }, inputs: inputs() });
  const tfjs = await run(store, 'tfjs', 2);
  const ort = await run(await copyBlobs(store, rows), 'onnxruntime', 2);
  assert.ok(ort.logs.some((l) => l.includes('training engine: onnxruntime')), ort.logs.join('\n'));
  assert.ok(tfjs.logs.every((l) => !l.includes('training engine: onnxruntime')), tfjs.logs.join('\n'));
  // the chosen engine is logged for engine: tfjs too (it said nothing, so a user comparing engines could not tell from the log)
  assert.ok(tfjs.logs.some((l) => l.includes('training engine: tfjs (engine: tfjs)')), tfjs.logs.join('\n'));
  const [a, b] = [tfjs, ort].map((r) => (r.artifact.meta as Record<string, any>).history);
  // float32 rounding apart (seen: train losses equal to 1.1e-6 relative, validation losses to 1.5e-6)
  for (const [i, h] of a.entries()) assert.ok(Math.abs(b[i].train_loss - h.train_loss) < 1e-3 * h.train_loss && Math.abs(b[i].val_loss - h.val_loss) < 1e-3 * h.val_loss && Math.abs(b[i].val_auc - h.val_auc) < 1e-3, `epoch ${i + 1}: ${JSON.stringify(b[i])} vs ${JSON.stringify(h)}`);
  const resumed = await run(store, 'onnxruntime', 3); // the tfjs run's checkpoint (weights, Adam moments) under ONNX Runtime
  assert.ok(resumed.logs.some((l) => l.includes('resuming from the checkpoint of epoch 2')), resumed.logs.join('\n'));
  const history = (resumed.artifact.meta as Record<string, any>).history;
  assert.ok(history[2].train_loss < 1.2 * history[1].train_loss, `epoch 3 continues the training: ${history.map((h: any) => h.train_loss).join(' ')}`);
  const parallel = await run(await copyBlobs(store, rows), 'auto', 1, { workers: 2 });
  assert.ok(parallel.logs.some((l) => l.includes('training engine: tfjs (workers: 2')), parallel.logs.join('\n'));
  await assert.rejects(run(await copyBlobs(store, rows), 'onnxruntime', 1, { dropout: 0.2 }), /layer dropout \(Dropout\).*rate 0.2/);
});

test('bad input is named: rows without images, unknown fold, bad params', async () => {
  const store = await tempStore();
  const rows = [{ id: 'x1', labels: ['A'], fold: 0 }, { id: 'x2', labels: ['B'], fold: 1 }];
  await assert.rejects(runStage(trainStage, { store, params: { fold: 0 }, inputs: [{ artifact: { kind: 'dataset', rows } }] }), /row x\d from input0 has no image|training rows/);
  await assert.rejects(runStage(trainStage, { store, params: { model: 'resnet99' } }), /invalid params for train: model/);
  await assert.rejects(runStage(trainStage, { store, params: { loss: { asl: { gamma_neg: -1 } } } }), /invalid params for train: loss/);
});

test('data-parallel training over a worker thread (workers: 2) learns like the single-thread run', async () => {
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 64, 32, 2, 11);
  const result = await runStage(trainStage, {
    store,
    params: { ...base, epochs: 3, fold: 1, workers: 2 },
    inputs: [{ artifact: { kind: 'dataset', rows, meta: { classes } } }],
  });
  const meta = result.artifact.meta as Record<string, any>;
  assert.equal(meta.history.length, 3);
  assert.ok(meta.history[2].train_loss < meta.history[0].train_loss, `train loss ${meta.history.map((h: any) => h.train_loss).join(' ')}`);
  assert.ok(meta.metrics.val_auc > 0.85, `val AUC ${meta.metrics.val_auc}`);
});

test('transfer learning: starts from a weights file (model.json + weights.bin) and from an init model input', async () => {
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 24, 32, 2, 13);
  const data = { name: 'data', artifact: { kind: 'dataset' as const, rows, meta: { classes } } };
  const first = await runStage(trainStage, { store, params: { ...base, epochs: 1, fold: 0 }, inputs: [data] });
  const dir = await mkdtemp(join(tmpdir(), 'train-weights-'));
  await writeFile(join(dir, 'model.json'), await first.file('model.json'));
  await writeFile(join(dir, 'weights.bin'), await first.file('weights.bin'));
  // Another class count: every layer but the head is copied.
  const fromFile = await runStage(trainStage, {
    store,
    params: { ...base, epochs: 1, fold: 0, weights: join(dir, 'model.json') },
    inputs: [{ ...data, artifact: { ...data.artifact, meta: { classes: ['A', 'B'] } } }],
  });
  const fileLog = fromFile.logs.find((l) => l.includes('initialised'));
  assert.match(fileLog ?? '', /initialised 12 layers from weights .*model\.json; kept fresh: logits/);
  const fromInit = await runStage(trainStage, { store, params: { ...base, epochs: 1, fold: 0, lr: 1e-4 }, inputs: [data, { name: 'init', artifact: first.artifact }] });
  assert.ok(fromInit.logs.some((l) => /initialised 13 layers from the model of init$/.test(l)), fromInit.logs.join('\n'));
  await assert.rejects(runStage(trainStage, { store, params: base, inputs: [data, { name: 'pretrained', artifact: first.artifact }] }), /named init/);
});

test('checkpoint key: a changed early_stopping or monitor starts afresh; more epochs on another engine resume', async () => {
  // Issue 11: early_stopping outside the key let a resume compare one metric's best with another's.
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 48, 32, 2, 5);
  const train = (extra: Record<string, unknown>) => runStage(trainStage, { store, params: { ...base, fold: 0, ...extra }, inputs: [{ artifact: { kind: 'dataset' as const, rows, meta: { classes } } }] });
  const resumed = (r: Awaited<ReturnType<typeof train>>) => r.logs.some((l) => l.includes('resuming from the checkpoint of epoch 2'));
  await train({ epochs: 2, monitor: 'val_auc' });
  assert.ok(!resumed(await train({ epochs: 3, monitor: 'val_auc', early_stopping: { patience: 1, metric: 'val_loss' } })), 'early_stopping is part of the key');
  assert.ok(!resumed(await train({ epochs: 3, monitor: 'val_loss' })), 'monitor is part of the key');
  assert.ok(resumed(await train({ epochs: 3, monitor: 'val_auc', engine: 'tfjs', inference: 'tfjs' })), 'epochs and the engines are not');
});

test('the start line says when the images are resized (a 64 px MedMNIST+ archive under medmnist.yaml\'s default size 28 trained at 28 px without a word)', async () => {
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, 24, 32, 2, 5);
  const run = (size: number) => runStage(trainStage, { store, params: { ...base, size, epochs: 1 }, inputs: [{ name: 'split', artifact: { kind: 'dataset', rows, meta: { classes } } }], vars: { fold: 0 } });
  const resized = await run(16);
  assert.ok(resized.logs.some((l) => /train small-cnn 16px .*; images 32x32, resized to 16x16/.test(l)), resized.logs.join('\n'));
  const same = await run(32);
  assert.ok(same.logs.some((l) => /train small-cnn 32px/.test(l)) && !same.logs.some((l) => /resized to/.test(l)), same.logs.join('\n'));
});

test('a saturating lr (30) no longer sticks: focal and CE train on the logits, the losses move and no stuck warning is logged', async () => {
  const store = await tempStore();
  const { rows } = await syntheticDataset(store, 24, 32, 2, 5);
  // one label per image: a 2-way softmax, as a binary MedMNIST set trains
  const single = rows.map((r, i) => ({ ...r, labels: [i % 3 ? 'A' : 'B'] }));
  const run = (lr: number, loss: string) => runStage(trainStage, { store, params: { ...base, lr, loss, epochs: 3 }, inputs: [{ name: 'split', artifact: { kind: 'dataset', rows: single, meta: { classes: ['A', 'B'] } } }], vars: { fold: 0 } });
  // focal at lr 30 sat at its clipping before (train_loss of epochs 2 and 3 equal, the warning logged)
  for (const loss of ['focal', 'ce']) {
    const overshoot = await run(30, loss);
    const history = (overshoot.artifact.meta as Record<string, any>).history;
    assert.notEqual(history[2].train_loss, history[1].train_loss, `${loss}: ${JSON.stringify(history)}`);
    assert.ok(!overshoot.logs.some((l) => l.includes('stuck')), overshoot.logs.join('\n'));
  }
});

test('the stuck warning: once, when train_loss and val_loss repeat the previous epoch\'s above 0.1, with what to change', () => {
  const warnings: string[] = [];
  const reported: number[] = [];
  const ctx = { log: { warn: (m: string) => warnings.push(m) } } as unknown as StageContext;
  const watch = stuckWatch(ctx, (r) => reported.push(r.epoch));
  const epoch = (n: number, train: number, val?: number): EpochRecord => ({ epoch: n, lr: 1e-3, train_loss: train, ...(val === undefined ? {} : { val_loss: val }), seconds: 1 });
  [epoch(1, 0.05, 0.7), epoch(2, 0.05, 0.7), epoch(3, 2, 0.7), epoch(4, 2, 0.8), epoch(5, 2, 0.8), epoch(6, 2, 0.8)].forEach(watch);
  assert.deepEqual(reported, [1, 2, 3, 4, 5, 6]);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0], /^epoch 5: train_loss and val_loss unchanged since epoch 4 \(2\.0000\): no step changed the outputs.*every loss trains on the logits.*lower lr/);
});
