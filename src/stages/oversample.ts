import { z } from 'zod';
import type { DatasetRow } from '../data-model.ts';
import { defineStage } from '../engine/stage.ts';
import { matchesClasses } from '../ops/splits/resample.ts';
import { singleDataset } from './dataset-input.ts';
import { classListParam, classSet } from './resample-params.ts';

export const OversampleParams = z
  .object({
    label: classListParam,
    times: z.number().int().min(2).default(2).describe('Times each matching row is used per training epoch (sets repeat)'),
    exclusive: z.boolean().default(false).describe('Only rows whose labels are all among `label` (default: rows with any of them)'),
  })
  .strict();

export const oversample = defineStage({
  name: 'oversample',
  version: 1,
  description: 'Repeat rows of chosen classes in training (sets repeat); test rows untouched, validation uses each row once',
  params: OversampleParams,
  inputs: { min: 1, max: 1 },
  async run(ctx, inputs, params) {
    const source = singleDataset(inputs, 'oversample');
    const rows = await ctx.readRows<DatasetRow>(source);
    const classes = classSet(params.label);
    let changed = 0;
    const out = rows.map((row) => {
      if (row.split === 'test' || row.split === 'val' || !matchesClasses(row, classes, params.exclusive)) return row;
      changed++;
      const base = typeof row.repeat === 'number' ? row.repeat : 1;
      return { ...row, repeat: base * params.times };
    });
    ctx.log.info(`${changed} of ${rows.length} rows of ${[...classes].join(', ')} repeated x${params.times} in training`);
    return { kind: 'dataset', rows: out, meta: { ...source.meta, oversample: { classes: [...classes], times: params.times, rows: changed } } };
  },
});
