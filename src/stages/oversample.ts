import { z } from 'zod';
import { defineStage, lazyRun } from '../engine/stage.ts';
import { classListParam } from './resample-params.ts';

export const OversampleParams = z
  .object({
    label: classListParam,
    times: z.number().int().min(2).default(2).describe('Times each matching row is used per training epoch (sets repeat)'),
    exclusive: z.boolean().default(false).describe('Only rows whose labels are all among `label` (default: rows with any of them)'),
  })
  .strict();

export type OversampleParams = z.output<typeof OversampleParams>;

export const oversample = defineStage({
  name: 'oversample',
  version: 1,
  description: 'Repeat rows of chosen classes in training (sets repeat); test rows untouched, validation uses each row once',
  params: OversampleParams,
  inputs: { min: 1, max: 1 },
  run: lazyRun(() => import('./oversample.run.ts')),
});
