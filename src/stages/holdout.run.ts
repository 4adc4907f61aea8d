import type { DatasetRow } from '../data-model.ts';
import { StageInputError, type StageContext, type StageInput } from '../engine/stage.ts';
import { holdoutAssign, SPLIT_ALIASES as ALIASES, type HoldoutSplit } from '../ops/splits/kfold.ts';
import { singleDataset } from './dataset-input.ts';
import { assertNoLeak, classesOf, splitItems, summariseParts } from './split-common.ts';
import type { ArtifactDraft } from '../engine/artifact.ts';
import type { HoldoutParams } from './holdout.ts';

const NAMES: HoldoutSplit[] = ['train', 'val', 'test'];

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

/** The implementation of the holdout stage, imported on its first run (src/stages/holdout.ts defines it). */
export async function run(ctx: StageContext, inputs: StageInput[], params: HoldoutParams): Promise<ArtifactDraft> {
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
}
