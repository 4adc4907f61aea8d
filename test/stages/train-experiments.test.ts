import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadExperiment } from '../../src/experiment/load.ts';
import { initBackend } from '../../src/ml/backend.ts';
import { defaultLoss } from '../../src/ml/losses/index.ts';
import { buildAutoencoder } from '../../src/ml/anomaly/autoencoder.ts';
import { buildFanogan, disposeFanogan } from '../../src/ml/anomaly/fanogan.ts';
import { WGAN_RMSPROP } from '../../src/ml/anomaly/gan-trainer.ts';
import { wganStepModels } from '../../src/ml/anomaly/gan-trainer-ort.ts';
import { meanCombinationLoss } from '../../src/ml/onnx/training/mean-loss-graph.ts';
import { reconstructionTrainLoss } from '../../src/ml/anomaly/anomaly-engine.ts';
import { buildModel } from '../../src/ml/models/index.ts';
import { compileTrainStep } from '../../src/ml/onnx/training/ort-trainer.ts';
import { ortOptimizerConfig } from '../../src/ml/training/optimizer.ts';
import { loadOnnxRuntime } from '../../src/ml/onnx/runtime.ts';
import { ortTrainingBlocker } from '../../src/ml/training/train-engine.ts';
import { trainStage } from '../../src/stages/train.ts';
import { modelSpecOf } from '../../src/stages/train.run.ts';
import type { TrainParams } from '../../src/stages/train-params.ts';
import { runStage, tempStore } from '../../src/testing/harness.ts';
import { syntheticDetectionDataset } from './detection-fixtures.ts';
import { syntheticDataset } from './train-fixtures.ts';

const experimentsDir = join(import.meta.dirname, '../../experiments');
const files = readdirSync(experimentsDir).filter((f) => f.endsWith('.yaml')).sort();
const ort = await loadOnnxRuntime();

/** f-AnoGAN's three step graphs (critic, generator, izi_f encoder) compile for the instance's params. */
function assertFanoganCompiles(params: TrainParams, where: string): void {
  const gan = buildFanogan({ inputSize: 32, channels: params.channels, seed: 1, width: params.width, bottleneck: params.anomaly?.bottleneck ?? 16, kappa: 1 });
  const { pair, adversary } = wganStepModels(gan);
  const rmsprop = { name: 'rmsprop', ...WGAN_RMSPROP };
  assert.doesNotThrow(() => compileTrainStep(pair, { loss: meanCombinationLoss([-1, 1]), optimizer: rmsprop, trainable: gan.critic.trainableWeights, frozen: [{ name: 'generator', variables: gan.generator.trainableWeights }] }), `${where}: critic step`);
  assert.doesNotThrow(() => compileTrainStep(adversary, { loss: meanCombinationLoss([-1]), optimizer: rmsprop, trainable: gan.generator.trainableWeights, frozen: [{ name: 'critic', variables: gan.critic.trainableWeights }] }), `${where}: generator step`);
  assert.doesNotThrow(() => compileTrainStep(gan.scorer, { loss: meanCombinationLoss([1]), optimizer: ortOptimizerConfig(params.optimizer, params.momentum), trainable: gan.encoder.trainableWeights, training: false }), `${where}: encoder step`);
  disposeFanogan(gan);
}

/**
 * issue 13: `engine: auto` never falls back to tfjs for anything in experiments/. For every train
 * instance of every experiment file: its params leave the engine on auto (or onnxruntime); for
 * classification, the step graph of its model, loss and optimizer compiles (ortTrainingBlocker is what
 * `auto` checks; anomaly: the autoencoder's step, f-AnoGAN's three steps); then one fold trains for an epoch on small synthetic images (detection: boxes) with the
 * experiment's params, and its log names the engine.
 */
for (const file of files) {
  test(`${file}: every train instance trains on ONNX Runtime under engine: auto`, { skip: ort ? false : 'onnxruntime-node is not installed' }, async () => {
    const experiment = await loadExperiment(join(experimentsDir, file), { skipExternalChecks: true, env: {} });
    const trains = experiment.instances.filter((i) => i.uses === 'train');
    if (trains.length === 0) return;
    await initBackend('wasm');
    const seen = new Set<string>();
    for (const instance of trains) {
      const params = instance.params as TrainParams;
      const { fold: _fold, ...rest } = params;
      if (seen.has(JSON.stringify(rest))) continue;
      seen.add(JSON.stringify(rest));
      assert.notEqual(params.engine, 'tfjs', `${instance.id} asks for the tfjs engine`);
      if (params.task === 'detection') continue;
      if (params.task === 'anomaly') {
        if (params.anomaly?.method === 'f-anogan') {
          assertFanoganCompiles(params, `${file} ${instance.id}`);
          continue;
        }
        const autoencoder = buildAutoencoder({ inputSize: 32, channels: params.channels, seed: 1, width: params.width, bottleneck: params.anomaly?.bottleneck ?? 16 });
        const pixels = 32 * 32 * params.channels;
        assert.doesNotThrow(() => compileTrainStep(autoencoder, { loss: reconstructionTrainLoss(pixels), optimizer: ortOptimizerConfig(params.optimizer, params.momentum) }), `${file} ${instance.id}`);
        autoencoder.dispose();
        continue;
      }
      const task = params.task === 'auto' ? 'multilabel' : params.task;
      const model = buildModel(modelSpecOf(params, 3, task));
      const blocker = ortTrainingBlocker(model, { loss: params.loss ?? defaultLoss(task), task, optimizer: params.optimizer, momentum: params.momentum, workers: params.workers, classWeights: params.class_balanced ? [1, 2, 3] : undefined });
      model.dispose();
      assert.equal(blocker, undefined, `${file} ${instance.id}: ${blocker}`);
    }
    const store = await tempStore();
    const first = trains[0].params as TrainParams;
    const detection = first.task === 'detection';
    const data = detection ? { rows: await syntheticDetectionDataset(store, 8, 64, 64, 2), meta: {} } : await syntheticDataset(store, 16, 32, 2, 5).then(({ rows, classes }) => ({ rows, meta: { classes } }));
    // the instance's params are parsed: drop the nulls that parsing made of 'off' values (augment: false)
    const given = Object.fromEntries(Object.entries(first).filter(([, v]) => v !== null));
    // an anomaly detector's normal rows are the synthetic set's "No finding" ones
    const anomaly = first.task === 'anomaly' ? { anomaly: { ...first.anomaly, normal: 'No finding' } } : {};
    const params = { ...given, ...anomaly, size: detection ? 64 : 32, epochs: 1, batch: 4, fold: 0 };
    const result = await runStage(trainStage, { store, params, inputs: [{ artifact: { kind: 'dataset', ...data } }] });
    assert.ok(result.logs.some((l) => l.includes('training engine: onnxruntime')), `${file}: ${result.logs.join('\n')}`);
  });
}
