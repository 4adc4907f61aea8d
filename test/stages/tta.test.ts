import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import * as tf from '../../src/ml/tf.ts';
import { initBackend } from '../../src/ml/backend.ts';
import { buildModel } from '../../src/ml/models/index.ts';
import { saveModelFiles } from '../../src/ml/model-io.ts';
import { tta } from '../../src/stages/tta.ts';
import { runStage, tempStore } from '../../src/testing/harness.ts';

const S = 8;
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** A hand-set model: logit = k · (sum of left-half pixels − sum of right-half pixels). */
async function leftMinusRight(k: number) {
  await initBackend('cpu');
  const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [S, S, 1] }), tf.layers.dense({ units: 1, activation: 'sigmoid' })] });
  const w = Array.from({ length: S * S }, (_, i) => (i % S < S / 2 ? k : -k));
  model.layers[1].setWeights([tf.tensor2d(w, [S * S, 1]), tf.zeros([1])]);
  return model;
}

/** PNG whose left `cols` columns are white. */
function png(cols: number) {
  const px = Buffer.alloc(S * S, 0);
  for (let i = 0; i < S * S; i++) if (i % S < cols) px[i] = 255;
  return sharp(px, { raw: { width: S, height: S, channels: 1 } }).png().toBuffer();
}

/** Two fold models (by default the hand-set ones) and a dataset with two validation rows and one test row, in a fresh store. */
async function foldModelsAndRows(makeModel: (fold: number) => Promise<tf.LayersModel> = (fold) => leftMinusRight([0.1, 0.2][fold])) {
  const store = await tempStore();
  const left = await store.putBlob(await png(4));
  const leftThin = await store.putBlob(await png(2));
  const rows = [
    { id: 'v0', patient: 'p0', fold: 0, labels: ['left'], image: left },
    { id: 'v1', patient: 'p1', fold: 1, labels: [], image: leftThin },
    { id: 't0', patient: 'p2', split: 'test', labels: ['left'], image: left },
  ];
  const meta = (fold: number) => ({ classes: ['left'], inputSize: S, channels: 1, arch: 'hand', task: 'binary', fold, history: [{ epoch: 1, train_loss: 0.3 }] });
  const m0 = { kind: 'model' as const, files: await saveModelFiles(await makeModel(0)), meta: meta(0) };
  const m1 = { kind: 'model' as const, files: await saveModelFiles(await makeModel(1)), meta: meta(1) };
  const inputs = [
    { name: 'models', stage: 'train', vars: { fold: 0 }, artifact: m0 },
    { name: 'models', stage: 'train', vars: { fold: 1 }, artifact: m1 },
    { name: 'data', stage: 'split', artifact: { kind: 'dataset' as const, rows } },
  ];
  return { store, inputs };
}

for (const inference of ['tfjs', 'onnxruntime'] as const) {
  test(`tta (${inference}): flips averaged, out-of-fold rows per fold model, test rows per model or averaged, items cached`, () => flipsFoldsAndCache(inference));
}

async function flipsFoldsAndCache(inference: 'tfjs' | 'onnxruntime') {
  const { store, inputs } = await foldModelsAndRows();
  const params = (p: object) => ({ ...p, backend: 'cpu', inference });
  const identity = await runStage(tta, { store, inputs, params: params({ on: 'all', transforms: ['identity'] }) });
  if (inference === 'onnxruntime') assert.ok(identity.logs.some((l) => l.includes('inference engine: onnxruntime')), identity.logs.join('\n'));
  const byKey = new Map((await identity.rows<any>()).map((r) => [`${r.id}@${r.model_fold}`, r.scores[0]]));
  assert.deepEqual([...byKey.keys()].sort(), ['t0@0', 't0@1', 'v0@0', 'v1@1']); // each val row only by its own fold's model
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
  close(byKey.get('v0@0')!, sigmoid(0.1 * 32)); // 32 white pixels on the left
  close(byKey.get('v1@1')!, sigmoid(0.2 * 16));
  close(byKey.get('t0@1')!, sigmoid(0.2 * 32));

  const flips = await runStage(tta, { store, inputs, params: params({ on: 'test', transforms: ['identity', 'hflip'] }) });
  for (const r of await flips.rows<any>()) close(r.scores[0], 0.5); // flip mirrors the logit: mean of σ(z) and σ(−z)
  const vflip = await runStage(tta, { store, inputs, params: params({ on: 'test', transforms: ['vflip'] }) });
  close((await vflip.rows<any>())[0].scores[0], sigmoid(0.1 * 32));
  const shifted = await runStage(tta, { store, inputs, params: params({ on: 'test', transforms: [{ shift: { x: 0.25 } }] }) });
  close((await shifted.rows<any>())[0].scores[0], sigmoid(0.1 * (16 - 16))); // moved 2 px right: 16 white left, 16 right
  const zoomed = await runStage(tta, { store, inputs, params: params({ on: 'test', transforms: [{ scale: 0.5 }] }) });
  const z = (await zoomed.rows<any>())[0].scores[0];
  assert.ok(z > 0.5 && z < sigmoid(3.2), `shrunk image keeps the left-bright sign with fewer bright pixels: ${z}`);

  const averaged = await runStage(tta, { store, inputs, params: params({ on: 'test', transforms: ['identity'], average: true }) });
  const [avg] = await averaged.rows<any>();
  close(avg.scores[0], (sigmoid(3.2) + sigmoid(6.4)) / 2);
  assert.equal(avg.models, 2);
  assert.equal(avg.model, undefined);
  assert.deepEqual(averaged.artifact.meta.classes, ['left']);
  assert.ok((averaged.artifact.meta.histories as Record<string, unknown>).train);

  const again = await runStage(tta, { store, inputs, params: params({ on: 'all', transforms: ['identity'] }) });
  assert.equal(again.artifact.digest, identity.artifact.digest);
  const last = again.events.filter((e) => e.type === 'progress').at(-1);
  assert.equal(last?.type === 'progress' && last.items.cached, 2, 'second run: every (model, image) item came from the item cache');
}

test('tta: onnxruntime and tfjs give the same predictions (separate stores), and the item cache ignores the engine', async () => {
  const transforms = ['identity', 'hflip', { shift: { x: 0.25, y: -0.125 } }, { scale: 0.8 }];
  // small CNNs of the zoo (convs, folded batch norms, pooling, dense head), one seed per fold
  const zooModel = async (fold: number) => buildModel({ arch: 'small-cnn', inputSize: S, channels: 1, classes: 1, task: 'binary', seed: 3 + fold, width: 0.25 });
  const scores = async (inference: string, setup = foldModelsAndRows(zooModel)) => {
    const { store, inputs } = await setup;
    const run = await runStage(tta, { store, inputs, params: { on: 'all', transforms, backend: 'cpu', inference } });
    return { run, store, inputs, byKey: new Map((await run.rows<any>()).map((r) => [`${r.id}@${r.model_fold}`, r.scores[0] as number])) };
  };
  const tfjs = await scores('tfjs');
  const ort = await scores('onnxruntime');
  assert.ok(ort.run.logs.some((l) => l.includes('inference engine: onnxruntime')), ort.run.logs.join('\n'));
  assert.equal(ort.byKey.size, 4);
  for (const [key, want] of tfjs.byKey) {
    const d = Math.abs(ort.byKey.get(key)! - want);
    assert.ok(d < 1e-5, `${key}: onnxruntime ${ort.byKey.get(key)} vs tfjs ${want} (diff ${d})`);
  }
  const again = await scores('onnxruntime', Promise.resolve({ store: tfjs.store, inputs: tfjs.inputs }));
  const finished = again.run.events.flatMap((e) => (e.type === 'progress' && e.items.done === e.items.total ? [e.items] : []));
  assert.equal(finished.length, 2, 'one item loop per model');
  for (const items of finished) assert.equal(items.cached, items.total, 'every (model, image) item predicted by tfjs is reused by the onnxruntime run');
});
