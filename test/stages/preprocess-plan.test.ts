import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { workspace } from '../support/workspace.ts';

const SOURCE = resolve(import.meta.dirname, 'fixtures/image-source.ts');

const experiment = (clip: number) => `
name: prep-plan
stages:
  source: { uses: ${SOURCE}, with: { n: 12 } }
  preprocess:
    uses: preprocess
    from: source
    with:
      ops:
        - crop: { left: 0.05, right: 0.05, top: 0.1, bottom: 0.1 }
        - clahe: { clip: ${clip}, tiles: 4 }
        - resize: { width: 32 }
  split: { uses: kfold, from: preprocess, with: { k: 3, seed: 1 } }
  weights: { uses: class-weights, from: split }
  holdout: { uses: holdout, from: source, with: { train: 0.6, val: 0.2, test: 0.2 } }
`;

test('changing one preprocess op param reruns preprocess and what depends on it, nothing else', async () => {
  const ws = await workspace(experiment(2));
  const first = await ws.run();
  assert.equal(first.status, 'succeeded', JSON.stringify(first.instances.filter((i) => i.error)));
  await ws.write(experiment(8)); // clip 3 would give the same pixels on 32-px tiles (early cutoff)
  const plan = await ws.plan();
  assert.deepEqual(plan.source, { action: 'cached', reasons: [] });
  assert.deepEqual(plan.holdout, { action: 'cached', reasons: [] });
  assert.deepEqual(plan.preprocess, { action: 'run', reasons: ['param with.ops[1].clahe.clip changed 2 -> 8'] });
  assert.equal(plan.split.action, 'run');
  assert.match(plan.split.reasons.join(), /input preprocess will run/);
  assert.equal(plan.weights.action, 'run');
  const second = await ws.run();
  assert.deepEqual(
    Object.fromEntries(Object.entries(second.byId).map(([id, r]) => [id, r.status])),
    { source: 'cached', preprocess: 'ran', split: 'ran', weights: 'ran', holdout: 'cached' },
  );
});
