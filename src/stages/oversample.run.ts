import type { DatasetRow } from '../data-model.ts';
import { type StageContext, type StageInput } from '../engine/stage.ts';
import { matchesClasses } from '../ops/splits/resample.ts';
import { singleDataset } from './dataset-input.ts';
import { classSet } from './resample-params.ts';
import type { ArtifactDraft } from '../engine/artifact.ts';
import type { OversampleParams } from './oversample.ts';

/** The implementation of the oversample stage, imported on its first run (src/stages/oversample.ts defines it). */
export async function run(ctx: StageContext, inputs: StageInput[], params: OversampleParams): Promise<ArtifactDraft> {
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
}
