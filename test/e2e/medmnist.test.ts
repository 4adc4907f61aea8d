import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, REPO } from '../support/workspace.ts';
import { NIH_FIXTURES } from '../support/fixtures.ts';
import { DEBIAN_PYTHON, needs } from '../support/reference-tools.ts';
import { loadExperiment } from '../../src/experiment/load.ts';
import { modelSpecOf, optimizationConfig } from '../../src/stages/train.run.ts';
import type { TrainParams } from '../../src/stages/train-params.ts';

// experiments/medmnist.yaml on a tiny MedMNIST-layout archive numpy writes from 14 real NIH images at
// 28 px (test/stages/fixtures/write-npz.py: pneumoniamnist.npz, binary, 7 / 3 / 4), two epochs.
test('medmnist.yaml plans and runs end to end on a tiny .npz: official split, ResNet-18 small stem, multistep, test AUC and ACC', { skip: needs('numpy', 'opencv'), timeout: 900_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'medmnist-'));
  execFileSync(DEBIAN_PYTHON, [join(REPO, 'test/stages/fixtures/write-npz.py'), dir, NIH_FIXTURES], { stdio: 'ignore' });
  const env = { MEDMNIST: join(dir, 'pneumoniamnist.npz'), MEDMNIST_EPOCHS: '2' };
  const experiment = join(REPO, 'experiments/medmnist.yaml');
  const plan = await runCli(['plan', experiment, '--store', join(dir, 'store')], dir, { env });
  assert.equal(plan.code, 0, plan.stderr.slice(-3000));
  for (const id of ['ingest', 'split', 'train', 'tta', 'evaluate']) assert.match(plan.stdout, new RegExp(`\\b${id}\\b`));
  const run = await runCli(['run', experiment, '--store', join(dir, 'store'), '--plain', '--no-lock'], dir, { env }); // no pipeline.lock in the repo's experiments/ from a test
  assert.equal(run.code, 0, run.stderr.slice(-3000) + run.stdout.slice(-3000));
  const out = run.stdout + run.stderr;
  assert.match(out, /ingested 14 images from pneumoniamnist\.npz \(train 7, val 3, test 4; 28x28, grey; binary, 2 classes, names of MedMNIST pneumoniamnist\)/);
  assert.match(out, /train resnet18 28px multiclass, holdout: 7 training \/ 3 validation rows, classes normal=4, pneumonia=3/);
  assert.match(out, /epoch 2\/2: train_loss [\d.]+ val_loss [\d.]+ val_auc/);
  assert.match(run.stdout, /evaluate: auc \d(\.\d{3})? \[[\d.]+, [\d.]+\], auc_macro \d(\.\d{3})? \[[\d.]+, [\d.]+\], auc_micro [\d.]+ \[[\d.]+, [\d.]+\], accuracy \d(\.\d{3})? \[/);
  const exported = join(dir, 'out');
  const exp = await runCli(['export', experiment, 'evaluate', exported, '--store', join(dir, 'store')], dir, { env });
  assert.equal(exp.code, 0, exp.stderr.slice(-2000));
  const report = JSON.parse(await readFile(join(exported, 'report.json'), 'utf8'));
  assert.equal(report.rows, 4, 'the 4 test images of the archive');
  assert.deepEqual(report.classes, ['normal', 'pneumonia']);
  // A binary set's AUC is MedMNIST's: the positive (last) class's score, which a 2-way softmax ranks like the macro mean.
  assert.ok(Math.abs(report.metrics.auc_macro - report.metrics['auc/pneumonia']) < 1e-9, JSON.stringify(report.metrics));
  assert.equal(report.metrics.auc, report.metrics['auc/pneumonia'], 'the plain auc is the positive class\'s');
  // ACC is argmax accuracy (MedMNIST's multi-class/binary ACC): the confusion matrix's diagonal over the 4 test images.
  const matrix: number[][] = report.confusion.matrix;
  assert.equal(matrix.flat().reduce((a, b) => a + b, 0), 4, JSON.stringify(report.confusion));
  assert.ok(Math.abs(report.metrics.accuracy - matrix.reduce((a, row, i) => a + row[i], 0) / 4) < 1e-12, `accuracy ${report.metrics.accuracy} vs ${JSON.stringify(matrix)}`);
});

test('medmnist.yaml: the 28 px model has the small stem (their ResNet-18 (28)); the MedMNIST+ sizes get torchvision\'s stem (their ResNet-18 (224))', async () => {
  const stemAt = async (size?: string) => {
    const experiment = await loadExperiment(join(REPO, 'experiments/medmnist.yaml'), { skipExternalChecks: true, env: size ? { MEDMNIST_SIZE: size } : {} });
    const params = experiment.instances.find((i) => i.id === 'train')!.params as TrainParams;
    return { size: params.size, stem: modelSpecOf(params, 2, 'multiclass').stem };
  };
  assert.deepEqual(await stemAt(), { size: 28, stem: 'small' });
  for (const size of [64, 128, 224]) assert.deepEqual(await stemAt(String(size)), { size, stem: 'imagenet' });
});

test("medmnist.yaml optimises as their train_and_eval_pytorch.py: Adam(lr=0.001) with PyTorch's eps 1e-8, batch 128, 100 epochs, MultiStepLR at 50 / 75 %, no augmentation, best val AUC, one identity TTA", async () => {
  const experiment = await loadExperiment(join(REPO, 'experiments/medmnist.yaml'), { skipExternalChecks: true, env: {} });
  const params = experiment.instances.find((i) => i.id === 'train')!.params as TrainParams;
  assert.deepEqual(optimizationConfig(params), { epochs: 100, batch: 128, seed: 1, optimizer: 'adam', lr: 0.001, momentum: 0.9, epsilon: 1e-8, schedule: { type: 'multistep', milestones: [0.5, 0.75], gamma: 0.1 } });
  assert.equal(params.augment, null);
  assert.equal(params.monitor, 'val_auc');
  assert.equal(params.early_stopping, false);
  assert.equal(params.label_smoothing, 0);
  assert.equal(params.class_balanced, false);
  assert.equal(params.balanced_sampler, false);
  const tta = experiment.instances.find((i) => i.id === 'tta')!.params as { transforms: unknown[] };
  assert.equal(tta.transforms.length, 1, 'no test-time augmentation: their test() scores each image once');
});
