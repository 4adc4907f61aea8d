import { z } from 'zod';
import type { DatasetRow } from '../data-model.ts';
import { defineStage, StageInputError } from '../engine/stage.ts';
import { holdoutAssign, type HoldoutSplit } from '../ops/splits/kfold.ts';
import { singleDataset } from './dataset-input.ts';
import { assertNoLeak, classesOf, groupParam, seedParam, splitItems, stratifyParam, summariseParts } from './split-common.ts';

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

const NAMES: HoldoutSplit[] = ['train', 'val', 'test'];
const ALIASES: Record<string, HoldoutSplit> = { train: 'train', training: 'train', val: 'val', valid: 'val', validation: 'val', dev: 'val', test: 'test', testing: 'test', holdout: 'test' };

/** Split values of the `column` mode, normalised; a clear error names the first bad row. */
function splitFromColumn(rows: readonly DatasetRow[], column: string): HoldoutSplit[] {
  return rows.map((row) => {
    const value = row[column];
    const split = typeof value === 'string' ? ALIASES[value.trim().toLowerCase()] : undefined;
    if (!split) {
      throw new StageInputError(`row ${row.id}: column "${column}" is ${JSON.stringify(value)}, not train / val / test`, `accepted values: ${Object.keys(ALIASES).join(', ')}; or use mode: stratified`);
    }
    return split;
  });
}

export const holdout = defineStage({
  name: 'holdout',
  version: 1,
  description: 'Train / val / test split: grouped and stratified, or taken from the split column of the labels file',
  params: HoldoutParams,
  inputs: { min: 1, max: 1 },
  async run(ctx, inputs, params) {
    const source = singleDataset(inputs, 'holdout');
    const rows = await ctx.readRows<DatasetRow>(source);
    const items = splitItems(rows, params.stratify, params.group, ctx.log);
    const split = params.mode === 'column' ? splitFromColumn(rows, params.column) : holdoutAssign(items, params, params.seed);
    const partIndex = split.map((s) => NAMES.indexOf(s));
    assertNoLeak(rows, items, partIndex, params.mode === 'column');
    const shares = NAMES.map((n) => split.filter((s) => s === n).length / Math.max(1, rows.length));
    const ratios = params.mode === 'column' ? shares : [params.train, params.val, params.test];
    const { summary, table } = summariseParts(items, partIndex, NAMES, ratios);
    ctx.log.info(`holdout (${params.mode}${params.mode === 'stratified' ? `, seed ${params.seed}` : ''}): LD ${summary.ld.toFixed(5)}, ED ${summary.ed.toFixed(2)} images\n${table}`);
    const out = rows.map((row, i) => {
      const { fold: _fold, ...rest } = row;
      return { ...rest, split: split[i] };
    });
    return {
      kind: 'dataset',
      rows: out,
      meta: { ...source.meta, classes: classesOf(source.meta, rows), split: { method: 'holdout', mode: params.mode, seed: params.seed, ratios, stratify: params.stratify, group: params.group, ...summary } },
    };
  },
});
