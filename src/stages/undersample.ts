import { z } from 'zod';
import { defineStage, lazyRun } from '../engine/stage.ts';
import { classListParam } from './resample-params.ts';

export const UndersampleParams = z
  .object({
    label: classListParam,
    keep: z.number().min(0).max(1).optional().describe('Fraction of the matching training rows kept per fold (e.g. 0.3)'),
    count: z.number().int().min(0).optional().describe('Number of matching training rows kept per fold'),
    ratio: z.number().min(0).optional().describe('Matching rows kept = ratio x the other training rows of the fold'),
    exclusive: z.boolean().default(true).describe('Only rows whose labels are all among `label` (a "No finding" image, not one that also has a finding)'),
    seed: z.number().int().default(42).describe('Random seed (combined with the fold index)'),
  })
  .strict()
  .refine((p) => [p.keep, p.count, p.ratio].filter((v) => v !== undefined).length === 1, { message: 'give exactly one of keep, count, ratio', path: ['keep'] });

export type UndersampleParams = z.output<typeof UndersampleParams>;

export const undersample = defineStage({
  name: 'undersample',
  version: 1,
  description: 'Reduce chosen classes in the training part of every fold (sets exclude_train_folds); validation and test rows untouched',
  params: UndersampleParams,
  inputs: { min: 1, max: 1 },
  run: lazyRun(() => import('./undersample.run.ts')),
});
