import type { DatasetRow } from '../data-model.ts';
import { StageInputError, type StageContext, type StageInput } from '../engine/stage.ts';
import { foldsOf, matchesClasses, undersamplePlan, type KeepRule } from '../ops/splits/resample.ts';
import { singleDataset } from './dataset-input.ts';
import { classSet } from './resample-params.ts';
import type { ArtifactDraft } from '../engine/artifact.ts';
import type { UndersampleParams } from './undersample.ts';

/** The implementation of the undersample stage, imported on its first run (src/stages/undersample.ts defines it). */
export async function run(ctx: StageContext, inputs: StageInput[], params: UndersampleParams): Promise<ArtifactDraft> {
  const source = singleDataset(inputs, 'undersample');
  const rows = await ctx.readRows<DatasetRow>(source);
  const classes = classSet(params.label);
  const rule = (params.keep !== undefined ? { keep: params.keep } : params.count !== undefined ? { count: params.count } : { ratio: params.ratio! }) as KeepRule;
  const isCandidate = (r: DatasetRow) => matchesClasses(r, classes, params.exclusive);
  const folds = foldsOf(rows);
  if (folds.length) {
    const plan = undersamplePlan(rows, folds, isCandidate, rule, params.seed);
    const excluded = rows.map((r) => new Set<number>((r.exclude_train_folds as number[] | undefined) ?? []));
    for (const p of plan) for (const i of p.dropped) excluded[i].add(p.fold);
    const out = rows.map((row, i) => (excluded[i].size ? { ...row, exclude_train_folds: [...excluded[i]].sort((a, b) => a - b) } : row));
    for (const p of plan) ctx.log.info(`fold ${p.fold}: kept ${p.kept} of ${p.candidates} training rows of ${[...classes].join(', ')}`);
    return { kind: 'dataset', rows: out, meta: { ...source.meta, undersample: { classes: [...classes], folds: plan.map(({ dropped, ...p }) => ({ ...p, dropped: dropped.length })) } } };
  }
  // No folds: a holdout split. Its training part is split === 'train'; dropped rows leave the table.
  if (!rows.some((r) => r.split === 'train')) {
    throw new StageInputError('undersample found neither folds nor split: train rows', 'put it after kfold or holdout, which mark the training part');
  }
  const [p] = undersamplePlan(rows.map((r) => (r.split === 'train' ? { ...r, fold: -1 } : { ...r, split: 'test' as const })), [0], isCandidate, rule, params.seed);
  const drop = new Set(p.dropped);
  ctx.log.info(`kept ${p.kept} of ${p.candidates} training rows of ${[...classes].join(', ')}; removed ${drop.size}`);
  return {
    kind: 'dataset',
    rows: rows.filter((_, i) => !drop.has(i)),
    meta: { ...source.meta, undersample: { classes: [...classes], folds: [{ fold: null, candidates: p.candidates, kept: p.kept, dropped: drop.size }] } },
  };
}
