import { z } from 'zod';
import { defineStage, lazyRun } from '../engine/stage.ts';

export const ClassWeightsParams = z
  .object({
    method: z.enum(['inverse', 'effective']).default('inverse').describe('inverse: 1/n_c; effective: (1 - beta) / (1 - beta^n_c) (Cui et al. 2019)'),
    beta: z.number().min(0).max(1).lt(1).default(0.9999).describe('beta of the effective number of samples'),
  })
  .strict();

export type ClassWeightsParams = z.output<typeof ClassWeightsParams>;

export const classWeightsStage = defineStage({
  name: 'class-weights',
  version: 1,
  description: 'Class weights from non-test image counts (inverse frequency or effective number), normalised to sum to the number of classes, in meta.class_weights',
  params: ClassWeightsParams,
  inputs: { min: 1, max: 1 },
  run: lazyRun(() => import('./class-weights.run.ts')),
});
