import type { DatasetRow } from '../data-model.ts';
import { type StageContext, type StageInput } from '../engine/stage.ts';
import { classWeights } from '../ops/splits/resample.ts';
import { singleDataset } from './dataset-input.ts';
import { classesOf } from './split-common.ts';
import type { ArtifactDraft } from '../engine/artifact.ts';
import type { ClassWeightsParams } from './class-weights.ts';

/** The implementation of the class-weights stage, imported on its first run (src/stages/class-weights.ts defines it). */
export async function run(ctx: StageContext, inputs: StageInput[], params: ClassWeightsParams): Promise<ArtifactDraft> {
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
}
