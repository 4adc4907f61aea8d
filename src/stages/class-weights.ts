import { z } from 'zod';
import type { DatasetRow } from '../data-model.ts';
import { defineStage } from '../engine/stage.ts';
import { classWeights } from '../ops/splits/resample.ts';
import { singleDataset } from './dataset-input.ts';
import { classesOf } from './split-common.ts';

export const ClassWeightsParams = z
  .object({
    method: z.enum(['inverse', 'effective']).default('inverse').describe('inverse: 1/n_c; effective: (1 - beta) / (1 - beta^n_c) (Cui et al. 2019)'),
    beta: z.number().min(0).max(1).lt(1).default(0.9999).describe('beta of the effective number of samples'),
  })
  .strict();

export const classWeightsStage = defineStage({
  name: 'class-weights',
  version: 1,
  description: 'Class weights from non-test image counts (inverse frequency or effective number), normalised to sum to the number of classes, in meta.class_weights',
  params: ClassWeightsParams,
  inputs: { min: 1, max: 1 },
  async run(ctx, inputs, params) {
    const source = singleDataset(inputs, 'class-weights');
    const rows = await ctx.readRows<DatasetRow>(source);
    const classes = classesOf(source.meta, rows);
    const counts: Record<string, number> = Object.fromEntries(classes.map((c) => [c, 0]));
    for (const row of rows) {
      if (row.split === 'test') continue;
      for (const l of new Set(row.labels ?? [])) if (l in counts) counts[l]++;
    }
    const empty = classes.filter((c) => counts[c] === 0);
    if (empty.length) ctx.log.warn(`no training images of ${empty.join(', ')}: weight 0`);
    const weights = classWeights(counts, params.method, params.beta);
    ctx.log.info(`class weights (${params.method}): ${classes.map((c) => `${c} ${weights[c].toFixed(3)} (n=${counts[c]})`).join(', ')}`);
    // Rows pass through unchanged: only the rows blob is rewritten, images are not copied.
    return { kind: 'dataset', rows, meta: { ...source.meta, classes, class_weights: weights, class_counts: counts } };
  },
});
