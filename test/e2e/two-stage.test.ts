import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, REPO } from '../support/workspace.ts';

// experiments/two-stage.yaml at tiny size: pretraining on the "public" set, fine-tuning from it
// (from: { data, init }) and the from-scratch baseline, both evaluated on the task's test part.
test('the two-stage example pretrains, fine-tunes from the pretrained model and evaluates both against scratch', { timeout: 900_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'two-stage-'));
  const env = { PUBLIC_PATIENTS: '16', TASK_PATIENTS: '16', PRETRAIN_EPOCHS: '1', FINETUNE_EPOCHS: '1' };
  const run = await runCli(['run', join(REPO, 'experiments/two-stage.yaml'), '--store', join(dir, 'store'), '--plain', '--no-lock'], dir, { env }); // the repo's experiments/ gets no pipeline.lock from a test
  assert.equal(run.code, 0, run.stderr.slice(-3000) + run.stdout.slice(-3000));
  const out = run.stdout + run.stderr;
  for (const id of ['pretrain', 'finetune', 'scratch', 'evaluate_finetune', 'evaluate_scratch']) assert.match(run.stdout, new RegExp(`${id}\\s+ran`), `${id} ran`);
  // every layer of the pretrained ResNet-18 (same classes: the head too) starts the fine-tuning; scratch starts fresh
  assert.match(out, /finetune: initialised 41 layers from the model of pretrain/);
  assert.doesNotMatch(out, /scratch: initialised/);
  assert.match(run.stdout, /evaluate_finetune: auc_macro \d\.\d{3}/);
  assert.match(run.stdout, /evaluate_scratch: auc_macro \d\.\d{3}/);
});
