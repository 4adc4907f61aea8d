import { trainStage } from '../../../src/stages/train.ts';
import { runStage, tempStore } from '../../../src/testing/harness.ts';
import { loadModel } from '../../../src/ml/model-io.ts';
import type * as tf from '../../../src/ml/tf.ts';
import { syntheticDataset } from '../../stages/train-fixtures.ts';

/**
 * Runs the train stage for one epoch at lr 1e-9 (the weights stay where they started) on `images`
 * synthetic 64 px grey images of 3 labels with `weights:` an ONNX file; returns the logs and the trained model.
 */
export async function trainFromWeights(model: 'vit-tiny' | 'swin-tiny', weights: string, images: number): Promise<{ logs: string[]; trained: tf.LayersModel }> {
  const store = await tempStore();
  const { rows, classes } = await syntheticDataset(store, images, 64, 3, 5);
  const data = { name: 'data', artifact: { kind: 'dataset' as const, rows, meta: { classes } } };
  const params = { model, size: 64, batch: 8, epochs: 1, lr: 1e-9, seed: 3, fold: 0, backend: 'wasm', normalize: 'imagenet', weights } as const;
  const run = await runStage(trainStage, { store, params, inputs: [data] });
  return { logs: run.logs, trained: await loadModel(store, run.artifact) };
}
