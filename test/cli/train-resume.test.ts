import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LatestEntry } from '../../src/engine/cache-key.ts';
import { FsStore } from '../../src/store/fs-store.ts';
import { Collections } from '../../src/store/store.ts';
import { CHECKPOINT_COLLECTION } from '../../src/ml/training/checkpoint.ts';
import { workspace } from '../support/workspace.ts';

/**
 * issue 11: a training killed and resumed gives the artifact of an uninterrupted run, byte for byte.
 * Two folds train side by side (one ONNX Runtime thread each); a rerun after a kill finds one fold
 * finished and gives the other both cores, so this also holds the step graph to thread invariance.
 * Augmentation, mixup, the cosine schedule, Adam's state and the best-epoch choice all cross the resume.
 */
const yaml = (engine: string) => `
name: resume
stages:
  synth: { uses: synthetic-dicom, with: { patients: 16, seed: 3, size: 64 } }
  ingest: { uses: ingest-dicom, from: synth }
  convert: { uses: convert, from: ingest, with: { size: 32, bits: 8 } }
  split: { uses: kfold, from: convert, with: { k: 2, stratify: labels, group: patient, seed: 3 } }
  train:
    uses: train
    from: split
    foreach: { fold: "range(2)" }
    with:
      fold: "\${each.fold}"
      model: small-cnn
      width: 0.25
      size: 32
      epochs: 5
      batch: 8
      lr: 0.003
      schedule: cosine
      augment: { rotation: 5, hflip: true }
      mixup: 0.2
      engine: ${engine}
`;

type Workspace = Awaited<ReturnType<typeof workspace>>;

async function trainDigests(ws: Workspace): Promise<string[]> {
  const store = await FsStore.open(ws.storeDir, { durable: false });
  return Promise.all([0, 1].map(async (fold) => (await store.getDoc<LatestEntry>(Collections.latest, `resume/train[fold=${fold}]`))!.artifact));
}

/** Folds whose training artifact is committed (a kill after both would leave nothing to resume). */
async function finishedFolds(ws: Workspace): Promise<number> {
  const store = await FsStore.open(ws.storeDir, { durable: false });
  const entries = await Promise.all([0, 1].map((fold) => store.getDoc<LatestEntry>(Collections.latest, `resume/train[fold=${fold}]`).catch(() => undefined)));
  return entries.filter(Boolean).length;
}

async function checkpointEpochs(ws: Workspace): Promise<number[]> {
  const store = await FsStore.open(ws.storeDir, { durable: false });
  const epochs: number[] = [];
  try {
    for await (const id of store.listDocIds(CHECKPOINT_COLLECTION)) epochs.push((await store.getDoc<{ epoch: number }>(CHECKPOINT_COLLECTION, id))?.epoch ?? 0);
  } catch {
    // no checkpoint written yet
  }
  return epochs;
}

for (const engine of ['onnxruntime', 'tfjs']) {
  test(`${engine}: runs killed at several epochs (SIGKILL, also while writing a checkpoint) or interrupted (SIGINT) resume to the uninterrupted run's artifacts`, async () => {
    const reference = await workspace(yaml(engine));
    const done = await reference.cli(['run', 'exp.yaml', '--concurrency', '2']);
    assert.equal(done.code, 0, done.stderr);
    const want = await trainDigests(reference);

    const interrupted = async (
      signal: 'SIGKILL' | 'SIGINT',
      when: (ws: Workspace) => Promise<boolean>,
      label: string,
      options: { resumeOnlyIfUnfinished?: boolean; attempts?: number; env?: Record<string, string> } = {},
    ) => {
      let ws: Workspace;
      let sent = false;
      let first: { code: number | null };
      // A moment that lasts a few ms (a write in flight) can slip between two 25 ms polls: a run that ends
      // unsignalled is retried in a fresh workspace, and the test fails only if no attempt was caught there.
      for (let attempt = 1; ; attempt++) {
        const candidate = await workspace(yaml(engine));
        first = await candidate.cli(['run', 'exp.yaml', '--concurrency', '2'], {
          env: options.env,
          poll: async (child) => {
            if (!sent && (await when(candidate))) {
              sent = true;
              child.kill(signal);
            }
          },
        });
        ws = candidate;
        if (sent || attempt >= (options.attempts ?? 1)) break;
      }
      assert.ok(sent, `${label}: the run finished before the signal (${first.code})`);
      const epochs = await checkpointEpochs(ws);
      const unfinished = (await finishedFolds(ws)) < 2;
      const second = await ws.cli(['run', 'exp.yaml', '--concurrency', '2']);
      assert.equal(second.code, 0, second.stderr);
      if (unfinished || !options.resumeOnlyIfUnfinished) assert.match(second.stdout + second.stderr, /resuming from the checkpoint of epoch/, `${label}: the rerun resumed`);
      else assert.match(second.stdout, /train\[fold=1\]\s+cached/, `${label}: both folds had finished; the rerun finds them cached`);
      assert.deepEqual(await trainDigests(ws), want, `${label} (checkpoints at epochs ${epochs.join(', ')} when stopped): the resumed artifacts differ from the uninterrupted run's`);
      return ws;
    };
    // killed after a fold's checkpoint of epoch 1, then of epoch 3
    for (const epoch of [1, 3]) await interrupted('SIGKILL', async (ws) => (await checkpointEpochs(ws)).some((e) => e >= epoch), `SIGKILL after epoch ${epoch}`);
    // killed while the store writes a file after epoch 2 (a checkpoint's weights or document): the temp file stays behind
    // (the temp file is there for a few ms; the write the poll catches may be a fold's final artifact, or a run
    // record after both folds finished: then there is nothing left to resume, only no corrupt entry to find)
    await interrupted('SIGKILL', async (ws) => (await checkpointEpochs(ws)).some((e) => e >= 2) && (await readdir(join(ws.storeDir, 'tmp'))).length > 0, 'SIGKILL during a write', {
      resumeOnlyIfUnfinished: true,
      attempts: 4,
      env: { PIPELINE_FSYNC: '1' }, // as users run it: a synced write stays in tmp/ longer
    });
    await interrupted('SIGINT', async (ws) => (await checkpointEpochs(ws)).some((e) => e >= 2), 'SIGINT after epoch 2');
  });
}
