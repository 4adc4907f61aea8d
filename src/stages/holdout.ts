import { z } from 'zod';
import { defineStage, lazyRun } from '../engine/stage.ts';
import { groupParam, seedParam, stratifyParam } from './split-params.ts';

const fraction = z.number().min(0).max(1);

export const HoldoutParams = z
  .object({
    mode: z.enum(['stratified', 'column']).default('stratified').describe('stratified: make a grouped stratified split; column: use the split column already in the rows (from the labels file)'),
    train: fraction.default(0.8).describe('Fraction of images for training (stratified mode)'),
    val: fraction.default(0.1).describe('Fraction for validation (stratified mode)'),
    test: fraction.default(0.1).describe('Fraction for the held-out test part (stratified mode)'),
    column: z.string().min(1).default('split').describe('Column mode: the column holding train / val / test'),
    stratify: stratifyParam,
    group: groupParam,
    seed: seedParam,
  })
  .strict()
  .refine((p) => p.mode === 'column' || Math.abs(p.train + p.val + p.test - 1) < 1e-9, { message: 'train + val + test must sum to 1', path: ['train'] });

export type HoldoutParams = z.output<typeof HoldoutParams>;

export const holdout = defineStage({
  name: 'holdout',
  version: 1,
  description: 'Train / val / test split: grouped and stratified, or taken from the split column of the labels file',
  params: HoldoutParams,
  inputs: { min: 1, max: 1 },
  run: lazyRun(() => import('./holdout.run.ts')),
});
