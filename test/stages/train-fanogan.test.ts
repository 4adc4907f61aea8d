import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { DatasetRow } from '../../src/data-model.ts';
import type { PredictionRow } from '../../src/evaluation/predictions.ts';
import { buildFanogan, disposeFanogan } from '../../src/ml/anomaly/fanogan.ts';
import { initBackend } from '../../src/ml/backend.ts';
import { loadImageBatch } from '../../src/ml/image-tensor.ts';
import * as tf from '../../src/ml/tf.ts';
import { rocAuc } from '../../src/ops/metrics/roc.ts';
import { evaluate } from '../../src/stages/evaluate.ts';
import { gradcam } from '../../src/stages/gradcam.ts';
import { trainStage } from '../../src/stages/train.ts';
import { tta } from '../../src/stages/tta.ts';
import type { Store } from '../../src/store/store.ts';
import { runStage, tempStore } from '../../src/testing/harness.ts';
import { seededRandom } from '../../src/util/random.ts';
import { abortingStore, copyBlobs } from './train-helpers.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadArtifact } from '../../src/engine/artifact.ts';
import { FsStore } from '../../src/store/fs-store.ts';
import { workspace } from '../support/workspace.ts';

const SIZE = 32;
/** The disc's brightness over the texture: the image's mean grey alone does not tell the discs (normal means span 0.25-0.65). */
const DISC = 0.25;
const base = { task: 'anomaly', width: 0.25, size: SIZE, batch: 16, lr: 1e-3, seed: 3, monitor: 'val_loss' } as const;
const fanogan = (extra: Record<string, unknown> = {}) => ({ ...base, anomaly: { method: 'f-anogan', normal: 'normal', bottleneck: 4, ...extra } });

/**
 * A smooth texture (three low-frequency waves of random direction and phase around a random mean grey),
 * and for `disc` the same kind of image with a brighter disc (radius 4 px, +DISC) at a random place.
 */
function texture(random: () => number, disc: boolean): Uint8Array {
  const waves = Array.from({ length: 3 }, () => ({ fx: (random() - 0.5) * 0.5, fy: (random() - 0.5) * 0.5, phase: random() * 6.28, amp: 0.05 + 0.05 * random() }));
  const mean = 0.25 + 0.4 * random();
  const cx = 8 + 16 * random();
  const cy = 8 + 16 * random();
  const out = new Uint8Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      let v = mean + waves.reduce((s, w) => s + w.amp * Math.sin(w.fx * x + w.fy * y + w.phase), 0);
      if (disc && (x - cx) ** 2 + (y - cy) ** 2 <= 16) v += DISC;
      out[y * SIZE + x] = Math.round(255 * Math.min(1, Math.max(0, v)));
    }
  return out;
}

/** Normal textures (train 48, val 8, test 32) and disc images (val 8, test 32; 16 in train, to be left out). */
async function syntheticRows(store: Store): Promise<DatasetRow[]> {
  const random = seededRandom(7);
  const rows: DatasetRow[] = [];
  const parts = [['train', 48, 16], ['val', 8, 8], ['test', 32, 32]] as const;
  for (const [split, normal, abnormal] of parts)
    for (const [label, count] of [['normal', normal], ['disc', abnormal]] as const)
      for (let i = 0; i < count; i++) {
        const png = await sharp(Buffer.from(texture(random, label === 'disc')), { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toBuffer();
        rows.push({ id: `${split}-${label}-${i}`, patient: `${split}-${label}-${i}`, split, labels: [label], image: await store.putBlob(png) } as DatasetRow);
      }
  return rows;
}

test('f-AnoGAN on synthetic textures (ONNX Runtime under engine: auto): trained on the normal rows only, its score separates images with a bright disc (test AUC); tta, evaluate and the residual gallery take it', async () => {
  await initBackend('wasm');
  const store = await tempStore();
  const rows = await syntheticRows(store);
  const dataset = { name: 'split', artifact: { kind: 'dataset' as const, rows } };
  // a short WGAN at a higher learning rate than the default's 5e-5 (a few hundred steps instead of thousands)
  const GAN_EPOCHS = 40;
  const EPOCHS = 20;
  const started = Date.now();
  const trained = await runStage(trainStage, { store, params: { ...fanogan({ gan_epochs: GAN_EPOCHS, gan_lr: 1e-3, n_critic: 2 }), epochs: EPOCHS, batch: 8 }, inputs: [dataset] });
  const seconds = (Date.now() - started) / 1000;
  const meta = trained.artifact.meta as Record<string, any>;
  assert.deepEqual([meta.rows.train, meta.rows.left_out, meta.arch, meta.anomaly.method], [48, 16, 'f-anogan', 'f-anogan']);
  // both phases (the WGAN's steps, then the encoder's) on ONNX Runtime
  assert.equal(trained.logs.filter((l) => l.includes('training engine: onnxruntime')).length, 2, trained.logs.join('\n'));
  assert.ok(!trained.logs.some((l) => l.includes('training engine: tfjs')), trained.logs.join('\n'));
  assert.equal(trained.logs.filter((l) => /WGAN epoch \d+\/\d+: critic loss -?[\d.]+, generator loss/.test(l)).length, GAN_EPOCHS, trained.logs.join('\n'));
  assert.deepEqual(trained.metrics.filter((m) => m.name === 'critic_loss').map((m) => m.step), Array.from({ length: GAN_EPOCHS }, (_, i) => i + 1));
  assert.deepEqual(trained.metrics.filter((m) => m.name === 'val_loss').map((m) => m.step), Array.from({ length: EPOCHS }, (_, i) => i + 1));
  const losses = meta.history.map((h: any) => h.train_loss);
  console.log(`${seconds.toFixed(1)} s; critic ${meta.anomaly.gan_history.map((h: any) => h.critic_loss.toExponential(2)).join(' ')}; encoder loss ${losses.map((l: number) => l.toFixed(4)).join(' ')}; val_auc ${meta.history.map((h: any) => h.val_auc?.toFixed(2)).join(' ')}`);
  assert.ok(losses.at(-1) < losses[0], `the izi_f loss falls: ${losses.join(' ')}`);

  const predicted = await runStage(tta, { store, params: { on: 'all', transforms: ['identity'] }, inputs: [{ name: 'models', stage: 'train', artifact: trained.artifact }, dataset] });
  const predictions = await predicted.rows<PredictionRow>();
  const test = predictions.filter((p) => p.id.startsWith('test-'));
  const auc = rocAuc(test.map((p) => (p.id.includes('-disc-') ? 1 : 0)), test.map((p) => p.scores![0]));
  // an untrained f-AnoGAN of the same seed scores the same images
  const testRows = rows.filter((r) => r.split === 'test');
  const untrained = buildFanogan({ inputSize: SIZE, channels: 1, seed: base.seed, width: base.width, bottleneck: 4, kappa: 1 });
  const batch = await loadImageBatch(store, testRows.map((r) => r.image!), { size: SIZE, channels: 1 });
  const untrainedAuc = rocAuc(testRows.map((r) => (r.labels![0] === 'disc' ? 1 : 0)), Array.from((untrained.scorer.predict(batch) as tf.Tensor).dataSync()));
  batch.dispose();
  disposeFanogan(untrained);
  console.log(`test AUC normal vs disc: ${auc.toFixed(3)} (untrained: ${untrainedAuc.toFixed(3)})`);
  // on tfjs seeds 3, 4, 5 gave 0.792, 0.771, 0.760 (untrained 0.642, 0.648, 0.608); on ONNX Runtime seed 3 0.758
  assert.ok(auc > 0.7, `the score separates the discs: test AUC ${auc}`);
  assert.ok(auc > untrainedAuc + 0.08, `training made the difference: ${auc} vs untrained ${untrainedAuc}`);

  const report = await runStage(evaluate, { store, params: { split: 'test', bootstrap: { n: 100, by: 'image' } }, inputs: [{ name: 'predictions', stage: 'tta', artifact: predicted.artifact }] });
  const metrics = report.artifact.meta.metrics as Record<string, number>;
  assert.ok(Math.abs(metrics['auc/abnormal'] - auc) < 1e-9, `evaluate's AUC ${metrics['auc/abnormal']} vs ${auc}`);
  const gallery = await runStage(gradcam, { store, params: { per_group: 2, display_size: 64 }, inputs: [{ name: 'model', stage: 'train', artifact: trained.artifact }, dataset, { name: 'predictions', stage: 'tta', artifact: predicted.artifact }, { name: 'evaluation', stage: 'evaluate', artifact: report.artifact }] });
  const pngs = Object.keys(gallery.artifact.files ?? {}).filter((f) => f.startsWith('gallery/') && f.endsWith('.png'));
  assert.ok(pngs.length >= 4 && gallery.logs.some((l) => l.includes(`residual maps of "abnormal" for ${pngs.length} images`)), gallery.logs.join('\n'));
});

test('f-AnoGAN on either engine: a run killed in the encoder training resumes to the uninterrupted run\'s history and model; one killed in the WGAN too', async () => {
  await initBackend('wasm');
  const store = await tempStore();
  const rows = (await syntheticRows(store)).filter((r) => r.split !== 'test');
  const inputs = [{ artifact: { kind: 'dataset' as const, rows } }];
  for (const engine of ['onnxruntime', 'tfjs'] as const) {
    const params = { ...fanogan({ gan_epochs: 2, n_critic: 2 }), epochs: 2, engine };
    const fresh = await runStage(trainStage, { store: await copyBlobs(store, rows), params, inputs });
    assert.equal(fresh.logs.some((l) => l.includes('training engine: onnxruntime')), engine === 'onnxruntime', fresh.logs.join('\n'));
    assert.equal(fresh.logs.some((l) => l.includes('training engine: tfjs (engine: tfjs)')), engine === 'tfjs', fresh.logs.join('\n'));
    for (const killAfter of [1, 3]) {
      const attempt = await copyBlobs(store, rows);
      const controller = new AbortController();
      await assert.rejects(runStage(trainStage, { store: abortingStore(attempt, killAfter, controller), signal: controller.signal, params, inputs }), /killed/);
      const resumed = await runStage(trainStage, { store: attempt, params, inputs });
      assert.ok(resumed.logs.some((l) => l.includes('resuming from the checkpoint of epoch')), resumed.logs.join('\n'));
      assert.deepEqual(resumed.artifact.meta.history, fresh.artifact.meta.history, `${engine}, killed after checkpoint ${killAfter}`);
      assert.deepEqual((resumed.artifact.meta.anomaly as any).gan_history, (fresh.artifact.meta.anomaly as any).gan_history);
      assert.equal(resumed.artifact.digest, fresh.artifact.digest, `${engine}, killed after checkpoint ${killAfter}: the same model bytes`);
    }
  }
});

test('f-AnoGAN: bad params are named', async () => {
  await initBackend('wasm');
  const store = await tempStore();
  const rows = (await syntheticRows(store)).slice(0, 20);
  const inputs = [{ name: 'split', artifact: { kind: 'dataset' as const, rows } }];
  await assert.rejects(runStage(trainStage, { store, params: { ...base, anomaly: { normal: 'normal', kappa: 2 } }, inputs }), /anomaly\.kappa: kappa is for method: f-anogan \(method is autoencoder\)/);
  await assert.rejects(runStage(trainStage, { store, params: { ...base, anomaly: { method: 'anogan', normal: 'normal' } }, inputs }), /anomaly\.method/);
  await assert.rejects(runStage(trainStage, { store, params: { ...fanogan(), weights: 'x/model.json' }, inputs }), /method f-anogan starts from scratch/);
});

test('f-AnoGAN from an experiment file: ingest-images, holdout, train (method f-anogan), tta, evaluate and the residual gallery run in one pipeline', async () => {
  const ws = await workspace(`
stages:
  ingest: { uses: ingest-images, with: { source: data, labels: { path: data/labels.csv, path_column: image, label_column: label_name, split_column: split } } }
  split: { uses: holdout, from: ingest, with: { mode: column } }
  anomaly:
    uses: train
    from: split
    with: { task: anomaly, anomaly: { method: f-anogan, normal: normal, bottleneck: 4, gan_epochs: 3, gan_lr: 1e-3, n_critic: 2 }, size: ${SIZE}, width: 0.25, epochs: 2, batch: 8, seed: 1, monitor: val_loss }
  tta: { uses: tta, from: { models: anomaly, data: split }, with: { on: all, transforms: [identity] } }
  evaluate: { uses: evaluate, from: { predictions: tta, models: anomaly }, with: { split: test, bootstrap: { n: 50, seed: 1 } } }
  residuals: { uses: gradcam, from: { model: anomaly, data: split, predictions: tta, evaluation: evaluate }, with: { split: test, per_group: 2 } }
`);
  const random = seededRandom(11);
  const lines = ['image,label_name,split'];
  await mkdir(join(ws.dir, 'data', 'images'), { recursive: true });
  for (const [split, count] of [['train', 16], ['val', 4], ['test', 8]] as const)
    for (const label of ['normal', 'disc'])
      for (let i = 0; i < count; i++) {
        const image = `images/${split}-${label}-${i}.png`;
        await writeFile(join(ws.dir, 'data', image), await sharp(Buffer.from(texture(random, label === 'disc')), { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toBuffer());
        lines.push(`${image},${label},${split}`);
      }
  await writeFile(join(ws.dir, 'data', 'labels.csv'), lines.join('\n') + '\n');
  const run = await ws.run();
  assert.equal(run.status, 'succeeded', JSON.stringify(Object.fromEntries(Object.entries(run.byId).map(([k, v]) => [k, v.error ?? v.status]))));
  const store = await FsStore.open(ws.storeDir, { durable: false });
  const model = (await loadArtifact(store, run.byId.anomaly.artifact!))!;
  assert.deepEqual([model.meta.arch, (model.meta.anomaly as Record<string, unknown>).method], ['f-anogan', 'f-anogan']);
  const report = (await loadArtifact(store, run.byId.evaluate.artifact!))!;
  const auc = (report.meta.metrics as Record<string, number>)['auc/abnormal'];
  assert.ok(auc >= 0 && auc <= 1, `evaluate reports the test AUC of the f-AnoGAN score: ${auc}`);
  const gallery = (await loadArtifact(store, run.byId.residuals.artifact!))!;
  assert.ok((gallery.meta.images as number) >= 4, JSON.stringify(gallery.meta));
});
