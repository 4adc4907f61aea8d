import type { DatasetRow } from '../data-model.ts';
import { type StageContext, type StageInput } from '../engine/stage.ts';
import { kfoldAssign } from '../ops/splits/kfold.ts';
import { singleDataset } from './dataset-input.ts';
import { assertNoLeak, classesOf, splitItems, summariseParts } from './split-common.ts';
import type { ArtifactDraft } from '../engine/artifact.ts';
import type { KFoldParams } from './kfold.ts';

/** The implementation of the kfold stage, imported on its first run (src/stages/kfold.ts defines it). */
export async function run(ctx: StageContext, inputs: StageInput[], params: KFoldParams): Promise<ArtifactDraft> {
  const source = singleDataset(inputs, 'kfold');
  const rows = await ctx.readRows<DatasetRow>(source);
  const items = splitItems(rows, params.stratify, params.group, ctx.log);
  const { split, fold } = kfoldAssign(items, params.k, params.seed, params.test);
  const partIndex = rows.map((_, i) => (split[i] === 'test' ? params.k : fold[i]!));
  assertNoLeak(rows, items, partIndex, false);
  const names = [...Array.from({ length: params.k }, (_, j) => `fold ${j}`), ...(params.test > 0 ? ['test'] : [])];
  const ratios = [...new Array(params.k).fill((1 - params.test) / params.k), ...(params.test > 0 ? [params.test] : [])];
  const { summary, table } = summariseParts(items, partIndex, names, ratios);
  ctx.log.info(`k-fold (k=${params.k}, seed ${params.seed}${params.test ? `, test ${params.test}` : ''}): LD ${summary.ld.toFixed(5)}, ED ${summary.ed.toFixed(2)} images\n${table}`);
  const out = rows.map((row, i) => {
    const { fold: _oldFold, ...rest } = row;
    return split[i] === 'test' ? { ...rest, split: 'test' as const } : { ...rest, split: 'train' as const, fold: fold[i] };
  });
  return {
    kind: 'dataset',
    rows: out,
    meta: { ...source.meta, classes: classesOf(source.meta, rows), split: { method: 'kfold', k: params.k, seed: params.seed, test: params.test, stratify: params.stratify, group: params.group, ...summary } },
  };
}
