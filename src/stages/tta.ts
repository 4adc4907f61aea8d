import { z } from 'zod';
import { defineStage, lazyRun } from '../engine/stage.ts';
import { ttaTransformSchema } from '../ml/tta-transform-schema.ts';
import { backendParam } from '../ml/backend-param.ts';
import { inferenceParam } from '../ml/inference/inference-param.ts';
import { DecodeOverrides } from './train-detection-params.ts';

const params = z
  .object({
    on: z.enum(['test', 'val', 'all']).default('test').describe('Rows to predict: test = split test (every model); val = each fold model predicts its own validation fold (out-of-fold); all = both'),
    transforms: z.array(ttaTransformSchema).min(1).default(['identity', 'hflip']).describe('Test-time augmentations; each model\'s scores are averaged over them'),
    average: z.boolean().default(false).describe('Average over models per image (else one set of rows per model, tagged `model`)'),
    batch: z.number().int().min(1).max(1024).default(32).describe('Images per forward pass'),
    backend: backendParam,
    inference: inferenceParam,
    decode: DecodeOverrides.default({}).describe('Detection models: box decoding (score_thr, iou_thr, nms, sigma, pre_nms, max_det); defaults: the model\'s training values'),
    box_merge: z
      .object({ iou_thr: z.number().min(0).max(1).default(0.55).describe('WBF IoU threshold') })
      .strict()
      .default({ iou_thr: 0.55 })
      .describe('Detection models: how the boxes of several transforms (and with average, of several models) are fused per image: Weighted Boxes Fusion'),
  })
  .strict();

export type TtaParams = z.output<typeof params>;

export const tta = defineStage({
  name: 'tta',
  version: 2,
  description: 'Predicts a dataset with trained models under test-time augmentation (flips, shifts, scales); out-of-fold or test predictions; boxes for detection models',
  params,
  perItem: true,
  inputs: { min: 2 },
  run: lazyRun(() => import('./tta.run.ts')),
});
