import { z } from 'zod';

// Params of the split stages (kfold, holdout); their run code is in split-common.ts.
export const stratifyParam = z.string().min(1).default('labels').describe('Column stratified on: a class name or a list of class names per row (empty = "(none)")');
export const groupParam = z
  .string()
  .min(1)
  .nullable()
  .default('patient')
  .describe('Column whose rows stay together (no value in two parts); null = every image on its own');
export const seedParam = z.number().int().default(42).describe('Random seed: the same seed gives the same split');
