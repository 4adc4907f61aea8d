import type { StageContext, StageInput } from '../engine/stage.ts';
import { StageInputError } from '../engine/stage.ts';
import { predictionsMeta, type PredictionRow, type PredictionTask } from './predictions.ts';

/** The predictions of one model (one input, or one `model` tag inside an input). */
export interface PredictionSource {
  name: string;
  rows: PredictionRow[];
}

/**
 * Splits predictions inputs into per-model sources: rows tagged `model` (tta without averaging) form
 * one source per tag; untagged rows form one source per input instance. With several inputs, tags are
 * prefixed `<instance>:`. All inputs must share classes and task.
 */
export async function readPredictionSources(ctx: StageContext, inputs: readonly StageInput[]): Promise<{ classes: string[]; task: PredictionTask; sources: PredictionSource[]; histories: Record<string, unknown> }> {
  const predictions = inputs.filter((i) => i.artifact.kind === 'predictions');
  if (predictions.length === 0) throw new StageInputError(`no predictions input (got ${inputs.map((i) => `${i.name}: ${i.artifact.kind}`).join(', ') || 'none'})`, 'ensemble takes the output of tta (or of other ensembles)');
  const first = predictionsMeta(predictions[0].artifact, predictions[0].name);
  const sources = new Map<string, PredictionSource>();
  const histories: Record<string, unknown> = {};
  for (const input of predictions) {
    const meta = predictionsMeta(input.artifact, input.name);
    if (meta.task !== first.task || meta.classes.join('\u0000') !== first.classes.join('\u0000')) {
      throw new StageInputError(`input ${input.instance} predicts ${meta.task} [${meta.classes.join(', ')}] but ${predictions[0].instance} predicts ${first.task} [${first.classes.join(', ')}]`, 'ensemble models trained on the same classes');
    }
    Object.assign(histories, (input.artifact.meta.histories as Record<string, unknown> | undefined) ?? {});
    for (const row of await ctx.readRows<PredictionRow>(input.artifact)) {
      const tag = row.model === undefined ? input.instance : predictions.length > 1 ? `${input.instance}:${row.model}` : String(row.model);
      const source = sources.get(tag) ?? sources.set(tag, { name: tag, rows: [] }).get(tag)!;
      source.rows.push(row);
    }
  }
  return { ...first, sources: [...sources.values()], histories };
}
