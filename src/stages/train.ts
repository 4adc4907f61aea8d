import { dirname } from 'node:path';
import { defineStage, lazyRun } from '../engine/stage.ts';
import { TRAIN_VERSION, TrainParams } from './train-params.ts';

export const trainStage = defineStage({
  name: 'train',
  version: TRAIN_VERSION,
  description: 'Trains a classification model (tfjs zoo) on one fold of a dataset; outputs the best checkpoint',
  params: TrainParams,
  inputs: { min: 1, max: 2 },
  prefers: 'gpu',
  // a tfjs model.json names weight files beside it; an ONNX file holds its weights
  externalPaths: (params) => (!params.weights ? [] : params.weights.toLowerCase().endsWith('.onnx') ? [{ param: 'weights', path: params.weights }] : [{ param: 'weights', path: params.weights }, { param: 'weights', path: dirname(params.weights) }]),
  // Folds train at the same time: each in its own thread, so they use separate cores.
  isolate: 'worker',
  run: lazyRun(() => import('./train.run.ts')),
});
