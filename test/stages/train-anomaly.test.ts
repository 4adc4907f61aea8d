import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { DatasetRow } from '../../src/data-model.ts';
import type { PredictionRow } from '../../src/evaluation/predictions.ts';
import { buildAutoencoder, buildScoreModel, residualMaps } from '../../src/ml/anomaly/autoencoder.ts';
import { initBackend } from '../../src/ml/backend.ts';
import { loadImageBatch } from '../../src/ml/image-tensor.ts';
import { loadModel } from '../../src/ml/model-io.ts';
import * as tf from '../../src/ml/tf.ts';
import { rocAuc } from '../../src/ops/metrics/roc.ts';
import { ensemble } from '../../src/stages/ensemble.ts';
import { evaluate } from '../../src/stages/evaluate.ts';
import { gradcam } from '../../src/stages/gradcam.ts';
import { trainStage } from '../../src/stages/train.ts';
import { tta } from '../../src/stages/tta.ts';
import type { Store } from '../../src/store/store.ts';
import { runStage, tempStore } from '../../src/testing/harness.ts';
import { NIH_FIXTURES } from '../support/fixtures.ts';
import { abortingStore, copyBlobs } from './train-helpers.ts';

const SIZE = 32;
const base = { task: 'anomaly', anomaly: { normal: 'normal', bottleneck: 8 }, width: 0.5, size: SIZE, batch: 8, lr: 3e-3, seed: 2, monitor: 'val_loss' } as const;

/** A grey image with a bright disc (a quarter of the width across) over the right lung field: a dense opacity no normal image has. */
async function withOpacity(png: Buffer): Promise<Buffer> {
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  const out = Buffer.from(data);
  const r = info.width / 8;
  for (let y = 0; y < info.height; y++) for (let x = 0; x < info.width; x++) if ((x - info.width * 0.32) ** 2 + (y - info.height * 0.45) ** 2 <= r * r) out[y * info.width + x] = 250;
  return sharp(out, { raw: { width: info.width, height: info.height, channels: 1 } }).png().toBuffer();
}

/**
 * The real NIH fixture images (64 px, 20 per split and label) as rows: normal and abnormal rows of the
 * uploader's split, plus each normal train and test image with a opacity drawn in (label `abnormal`, id
 * `<id>+opacity`). The discs in the training part must be left out of training with every other abnormal row.
 */
async function nihDataset(store: Store): Promise<DatasetRow[]> {
  const lines = readFileSync(join(NIH_FIXTURES, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const rows: DatasetRow[] = [];
  const seen = new Map<string, number>();
  for (const [image, , split, label, index] of lines) {
    const key = `${split}/${label}`;
    if ((seen.get(key) ?? 0) >= 20) continue;
    let png: Buffer;
    try {
      png = readFileSync(join(NIH_FIXTURES, image));
    } catch {
      continue; // only 124 of the 1,000 images are in the fixtures
    }
    seen.set(key, (seen.get(key) ?? 0) + 1);
    const row = { id: index, patient: index.slice(0, 8), split, labels: [label] } as DatasetRow;
    rows.push({ ...row, image: await store.putBlob(png) });
    if (label === 'normal' && split !== 'val') rows.push({ ...row, id: `${index}+opacity`, labels: ['abnormal'], image: await store.putBlob(await withOpacity(png)) });
  }
  return rows;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const scoresOf = (rows: readonly PredictionRow[]) => new Map(rows.map((r) => [r.id, r.scores![0]]));

test('task anomaly on real NIH images: trains on the normal rows only; the score separates a drawn-in anomaly (a dense disc) from the same normal images; tta, evaluate and the residual gallery take it as a binary score', async () => {
  const store = await tempStore();
  const rows = await nihDataset(store);
  const dataset = { name: 'split', artifact: { kind: 'dataset' as const, rows } };
  const trained = await runStage(trainStage, { store, params: { ...base, epochs: 30 }, inputs: [dataset] });
  const meta = trained.artifact.meta as Record<string, any>;
  const trainPart = rows.filter((r) => r.split === 'train');
  assert.deepEqual([meta.rows.train, meta.rows.left_out], [trainPart.filter((r) => r.labels![0] === 'normal').length, trainPart.filter((r) => r.labels![0] !== 'normal').length]);
  assert.deepEqual([meta.rows.train, meta.rows.left_out], [20, 40]);
  assert.deepEqual([meta.classes, meta.task, meta.anomaly.normal], [['abnormal'], 'binary', 'normal']);
  assert.ok(trained.logs.some((l) => l.includes('20 normal ("normal") training rows (40 other training rows left out), 40 validation rows (20 abnormal)')), trained.logs.join('\n'));
  assert.deepEqual(trained.metrics.filter((m) => m.name === 'val_loss').map((m) => m.step), Array.from({ length: 30 }, (_, i) => i + 1));
  const losses = meta.history.map((h: any) => h.train_loss);
  console.log(`train loss ${losses.map((l: number) => l.toFixed(4)).join(' ')}; val_auc ${meta.history.map((h: any) => h.val_auc?.toFixed(2)).join(' ')}`);
  assert.ok(losses[29] < losses[0] / 3, `the reconstruction error falls: ${losses.map((l: number) => l.toFixed(4)).join(' ')}`);

  const predicted = await runStage(tta, { store, params: { on: 'all', transforms: ['identity'] }, inputs: [{ name: 'models', stage: 'train', artifact: trained.artifact }, dataset] });
  const predictions = await predicted.rows<PredictionRow>();
  const expectedIds = [...rows.filter((r) => r.split === 'val'), ...rows.filter((r) => r.split === 'test')].map((r) => r.id);
  assert.deepEqual(predictions.map((p) => p.id), expectedIds, 'one prediction per validation and test row, in dataset order');
  assert.deepEqual(predicted.artifact.meta.scores, 'anomaly');
  const ensembled = await runStage(ensemble, { store, params: {}, inputs: [{ name: 'anomaly', stage: 'tta', artifact: predicted.artifact }] });
  assert.equal(ensembled.artifact.meta.scores, 'anomaly', 'an ensemble of anomaly scores still says so (evaluate skips calibration)');
  for (const p of predictions) assert.deepEqual(p.labels, p.id.endsWith('+opacity') || rows.find((r) => r.id === p.id)!.labels![0] === 'abnormal' ? ['abnormal'] : ['normal']);
  // each score is the model's score of that row's image (no mix-up of rows)
  const model = await loadModel(store, trained.artifact);
  const test = rows.filter((r) => r.split === 'test');
  const batch = await loadImageBatch(store, test.map((r) => r.image!), { size: SIZE, channels: 1 });
  const direct = (model.predict(batch) as tf.Tensor).dataSync();
  const scores = scoresOf(predictions);
  test.forEach((r, i) => assert.ok(Math.abs(scores.get(r.id)! - direct[i]) <= 1e-5 * direct[i], `${r.id}: tta ${scores.get(r.id)} vs model ${direct[i]}`));

  // the drawn-in opacity raises every image's score, and separates the images better than an untrained
  // autoencoder's scores do (AUC over normals vs opacities, median ratio of each pair)
  const normals = test.filter((r) => r.labels![0] === 'normal');
  const discs = normals.map((r) => test.find((t) => t.id === `${r.id}+opacity`)!);
  const untrained = buildScoreModel(buildAutoencoder({ inputSize: SIZE, channels: 1, seed: base.seed, width: base.width, bottleneck: base.anomaly.bottleneck }));
  const untrainedScores = (untrained.predict(batch) as tf.Tensor).dataSync();
  const separation = (score: (r: DatasetRow) => number) => ({
    auc: rocAuc([...normals.map(() => 0), ...discs.map(() => 1)], [...normals, ...discs].map(score)),
    ratio: median(normals.map((r, i) => score(discs[i]) / score(r))),
  });
  const trainedSep = separation((r) => scores.get(r.id)!);
  const untrainedSep = separation((r) => untrainedScores[test.indexOf(r)]);
  console.log(`normals vs the same images with an opacity: trained AUC ${trainedSep.auc.toFixed(3)}, median score ratio ${trainedSep.ratio.toFixed(2)}; untrained ${untrainedSep.auc.toFixed(3)}, ${untrainedSep.ratio.toFixed(2)}`);
  assert.ok(normals.every((r, i) => scores.get(discs[i].id)! > scores.get(r.id)!), 'every image scores higher with the opacity drawn in');
  assert.ok(trainedSep.auc > untrainedSep.auc && trainedSep.ratio > untrainedSep.ratio, `an untrained autoencoder separates them less: ${JSON.stringify(untrainedSep)}`);
  // the residual map (the gallery's heat) is hottest on the drawn-in disc
  const discBatch = await loadImageBatch(store, discs.map((r) => r.image!), { size: SIZE, channels: 1 });
  const maps = residualMaps(model, discBatch);
  const inside = (k: number) => (Math.floor(k / SIZE) - SIZE * 0.45) ** 2 + ((k % SIZE) - SIZE * 0.32) ** 2 <= (SIZE / 8 - 1) ** 2;
  const contrast = maps.maps.map((m) => {
    const mean = (keep: boolean) => m.filter((_, k) => inside(k) === keep).reduce((a, b) => a + b, 0) / m.filter((_, k) => inside(k) === keep).length;
    return mean(true) / mean(false);
  });
  console.log(`residual inside / outside the disc: median ${median(contrast).toFixed(1)}, min ${Math.min(...contrast).toFixed(1)}`);
  assert.ok(Math.min(...contrast) > 2, `the residual map is hottest on the disc: ${contrast.map((c) => c.toFixed(1)).join(' ')}`);
  discBatch.dispose();
  tf.dispose([batch]);
  model.dispose();
  untrained.dispose();

  const report = await runStage(evaluate, { store, params: { split: 'test', bootstrap: { n: 200, by: 'image' } }, inputs: [{ name: 'predictions', stage: 'tta', artifact: predicted.artifact }] });
  const metrics = report.artifact.meta.metrics as Record<string, number>;
  assert.ok(metrics['auc/abnormal'] > 0.5 && metrics['auc/abnormal_ci_low'] <= metrics['auc/abnormal'] && metrics['auc/abnormal'] <= metrics['auc/abnormal_ci_high'], JSON.stringify(metrics));
  const realAbnormal = test.filter((r) => r.labels![0] === 'abnormal' && !r.id.endsWith('+opacity'));
  const testAuc = rocAuc([...normals.map(() => 0), ...test.filter((r) => r.labels![0] === 'abnormal').map(() => 1)], [...normals, ...test.filter((r) => r.labels![0] === 'abnormal')].map((r) => scores.get(r.id)!));
  assert.ok(Math.abs(metrics['auc/abnormal'] - testAuc) < 1e-9, `evaluate's AUC ${metrics['auc/abnormal']} is the score's AUC over the test rows ${testAuc}`);
  console.log(`test AUC ${testAuc.toFixed(3)} (20 normal vs ${realAbnormal.length} real + 20 drawn-in abnormal)`);
  assert.ok(report.logs.some((l) => l.includes('anomaly scores (reconstruction errors), not probabilities: calibration skipped')), report.logs.join('\n'));

  const gallery = await runStage(gradcam, { store, params: { per_group: 2, display_size: 64 }, inputs: [{ name: 'model', stage: 'train', artifact: trained.artifact }, dataset, { name: 'predictions', stage: 'tta', artifact: predicted.artifact }, { name: 'evaluation', stage: 'evaluate', artifact: report.artifact }] });
  const files = Object.keys(gallery.artifact.files ?? {});
  const pngs = files.filter((f) => f.startsWith('gallery/') && f.endsWith('.png'));
  assert.ok(pngs.length >= 4, files.join(', '));
  assert.ok(gallery.logs.some((l) => l.includes(`residual maps of "abnormal" for ${pngs.length} images`)), gallery.logs.join('\n'));
  await assert.rejects(runStage(gradcam, { store, params: {}, inputs: [{ name: 'model', stage: 'train', artifact: trained.artifact }, dataset] }), /anomaly scores are reconstruction errors, not probabilities/);
});

test('task anomaly: a run killed after epoch 2 resumes to the uninterrupted run\'s history and model', async () => {
  const store = await tempStore();
  const rows = (await nihDataset(store)).filter((r) => !r.id.endsWith('+opacity'));
  const inputs = [{ artifact: { kind: 'dataset' as const, rows } }];
  const params = { ...base, epochs: 3 };
  const controller = new AbortController();
  await assert.rejects(runStage(trainStage, { store: abortingStore(store, 2, controller), signal: controller.signal, params, inputs }), /killed/);
  const resumed = await runStage(trainStage, { store, params, inputs });
  assert.ok(resumed.logs.some((l) => l.includes('resuming from the checkpoint of epoch 2')), resumed.logs.join('\n'));
  assert.deepEqual(resumed.metrics.filter((m) => m.name === 'train_loss').map((m) => m.step), [3]);
  const fresh = await runStage(trainStage, { store: await copyBlobs(store, rows), params, inputs });
  assert.deepEqual(resumed.artifact.meta.history, fresh.artifact.meta.history);
  assert.equal(resumed.artifact.digest, fresh.artifact.digest, 'the same model bytes');
  // an earlier anomaly model initialises the next one (every autoencoder layer, by name)
  const fromInit = await runStage(trainStage, { store, params: { ...params, epochs: 1, lr: 1e-4 }, inputs: [...inputs, { name: 'init', artifact: fresh.artifact }] });
  const autoencoder = buildAutoencoder({ inputSize: SIZE, channels: 1, seed: 0, width: base.width, bottleneck: base.anomaly.bottleneck });
  const weighted = autoencoder.layers.filter((l) => l.weights.length > 0).length;
  autoencoder.dispose();
  assert.ok(fromInit.logs.includes(`info: initialised ${weighted} layers from the model of init`), fromInit.logs.join('\n'));
});

test('task anomaly: bad params are named (unknown normal label with the labels there are, classification options, sizes)', async () => {
  await initBackend('wasm');
  const store = await tempStore();
  const rows = (await nihDataset(store)).slice(0, 30);
  const inputs = [{ name: 'split', artifact: { kind: 'dataset' as const, rows } }];
  await assert.rejects(runStage(trainStage, { store, params: { ...base, anomaly: { normal: 'No Finding' } }, inputs }), /anomaly\.normal "No Finding" is not a label of the dataset from split \(labels: abnormal, normal\)/);
  await assert.rejects(runStage(trainStage, { store, params: { ...base, loss: 'focal' }, inputs }), /loss is for classification, not task: anomaly/);
  await assert.rejects(runStage(trainStage, { store, params: { ...base, size: 40 }, inputs }), /size 40 for the autoencoder is not a multiple of 16/);
  await assert.rejects(runStage(trainStage, { store, params: { ...base, model: 'resnet18' }, inputs }), /model resnet18 is a classifier/);
  await assert.rejects(runStage(trainStage, { store, params: { task: 'multiclass', anomaly: { normal: 'normal' } }, inputs }), /`anomaly` options are for task: anomaly/);
  await assert.rejects(runStage(trainStage, { store, params: { ...base, anomaly: { normal: 'normal', latent: 3 } }, inputs }), /invalid params for train: anomaly: Unrecognized key/);
});

test('task anomaly on folds: fold k trains on the normal rows of the other folds and validates on fold k (both kinds)', async () => {
  const store = await tempStore();
  const rows = (await nihDataset(store)).filter((r) => !r.id.endsWith('+opacity') && r.split !== 'test').map((r, i) => ({ ...r, split: 'train' as const, fold: i % 3 }));
  const result = await runStage(trainStage, { store, params: { ...base, epochs: 1 }, inputs: [{ artifact: { kind: 'dataset', rows } }], vars: { fold: 1 } });
  const meta = result.artifact.meta as Record<string, any>;
  const others = rows.filter((r) => r.fold !== 1);
  assert.equal(meta.fold, 1);
  assert.deepEqual(meta.rows, { train: others.filter((r) => r.labels![0] === 'normal').length, val: rows.filter((r) => r.fold === 1).length, left_out: others.filter((r) => r.labels![0] !== 'normal').length });
  assert.ok(meta.rows.train > 10 && meta.rows.left_out > 10, JSON.stringify(meta.rows));
  assert.ok(meta.history[0].val_auc !== undefined && meta.history[0].val_loss !== undefined, 'fold 1 holds normal and abnormal rows');
});
