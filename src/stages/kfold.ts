import { z } from 'zod';
import { defineStage, lazyRun } from '../engine/stage.ts';
import { groupParam, seedParam, stratifyParam } from './split-params.ts';

export const KFoldParams = z
  .object({
    k: z.number().int().min(2).default(5).describe('Number of folds'),
    stratify: stratifyParam,
    group: groupParam,
    seed: seedParam,
    test: z.number().min(0).max(0.9).default(0).describe('Fraction held out first as a grouped, stratified test part (split: test); 0 = none'),
  })
  .strict();

export type KFoldParams = z.output<typeof KFoldParams>;

export const kfold = defineStage({
  name: 'kfold',
  version: 1,
  description: 'Stratified, patient-grouped k-fold (iterative stratification) with an optional held-out test part',
  params: KFoldParams,
  inputs: { min: 1, max: 1 },
  run: lazyRun(() => import('./kfold.run.ts')),
});
