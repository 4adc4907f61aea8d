import type { Box } from '../data-model.ts';
import { StageInputError, type StageContext, type StageInput } from '../engine/stage.ts';
import { predictionsMeta, type PredictionRow } from '../evaluation/predictions.ts';
import { readPredictionSources, type PredictionSource } from '../evaluation/sources.ts';
import { weightedBoxesFusion } from '../ops/boxes/wbf.ts';
import { rankColumns, weightedMean } from '../ops/ensemble/combine.ts';
import { applyNoFinding, type NoFindingRule } from '../ops/ensemble/no-finding.ts';
import type { ArtifactDraft } from '../engine/artifact.ts';
import type { EnsembleParams } from './ensemble.ts';

/** The implementation of the ensemble stage, imported on its first run (src/stages/ensemble.ts defines it). */
export async function run(ctx: StageContext, inputs: StageInput[], p: EnsembleParams): Promise<ArtifactDraft> {
  const gateInput = p.no_finding ? inputs.find((i) => i.name === p.no_finding!.input) : undefined;
  if (p.no_finding && !gateInput) throw new StageInputError(`no_finding needs an input named "${p.no_finding.input}" (got ${inputs.map((i) => i.name).join(', ')})`, `from: { detections: tta, ${p.no_finding.input}: <classifier predictions stage> }`);
  const fused = inputs.filter((i) => i !== gateInput);
  const { classes: fusedClasses, task, sources, histories } = await readPredictionSources(ctx, fused);
  let classes = fusedClasses;
  const weightOf = (s: PredictionSource) => p.weights?.[s.name] ?? 1;
  for (const name of Object.keys(p.weights ?? {})) {
    if (!sources.some((s) => s.name === name)) throw new StageInputError(`weights names unknown model "${name}"`, `models: ${sources.map((s) => s.name).join(', ')}`);
  }
  if (p.method === 'weighted' && !p.weights) throw new StageInputError('method weighted needs weights: { <model>: number }', `models: ${sources.map((s) => s.name).join(', ')}`);
  const perSource = sources.map((s) => {
    const scored = s.rows.filter((r) => Array.isArray(r.scores));
    const scores = p.method === 'rank' ? rankColumns(scored.map((r) => r.scores!)) : scored.map((r) => r.scores!);
    return { source: s, byId: new Map(s.rows.map((r) => [r.id, r])), scoreById: new Map(scored.map((r, i) => [r.id, scores[i]])) };
  });
  const ids = [...new Set(sources.flatMap((s) => s.rows.map((r) => r.id)))];
  const rows = ids.map((id) => {
    const members = perSource.filter((x) => x.byId.has(id));
    const base = members[0].byId.get(id)!;
    const { model: _m, scores: _s, boxes: _b, ...rest } = base;
    const out: PredictionRow = { ...rest, models: members.length };
    const scored = members.filter((x) => x.scoreById.has(id));
    if (scored.length) out.scores = weightedMean(scored.map((x) => x.scoreById.get(id)!), p.method === 'mean' ? undefined : scored.map((x) => weightOf(x.source)));
    const boxed = members.filter((x) => Array.isArray(x.byId.get(id)!.boxes));
    if (boxed.length) {
      const fused = weightedBoxesFusion(boxed.map((x) => (x.byId.get(id)!.boxes ?? []).map((b) => ({ ...b, score: b.score ?? 1 }))), {
        iouThr: p.boxes.iou_thr, skipBoxThr: p.boxes.skip_box_thr, confType: p.boxes.conf_type, weights: boxed.map((x) => weightOf(x.source)),
      });
      out.boxes = fused.map((b): Box => ({ label: b.label, x_min: b.x_min, y_min: b.y_min, x_max: b.x_max, y_max: b.y_max, score: b.score }));
    }
    return out;
  });
  if (p.no_finding) {
    const gate = await noFindingProbabilities(ctx, gateInput!, p.no_finding);
    const rule: NoFindingRule = p.no_finding.mode === 'gate' ? { mode: 'gate', threshold: p.no_finding.threshold } : p.no_finding.mode === 'filter' ? { mode: 'filter', low: p.no_finding.low, high: p.no_finding.high } : { mode: 'rescale' };
    let missing = 0;
    for (const row of rows) {
      const pNf = gate.get(row.id);
      if (pNf === undefined) missing++;
      else row.boxes = applyNoFinding(row.boxes ?? [], pNf, rule, p.no_finding.class);
    }
    if (missing) ctx.log.warn(`${missing} of ${rows.length} images have no classifier prediction in "${p.no_finding.input}": their boxes are not gated`);
    if (!classes.includes(p.no_finding.class)) classes = [...classes, p.no_finding.class];
    ctx.log.info(`"${p.no_finding.class}" ${p.no_finding.mode} from ${gateInput!.instance} on ${rows.length - missing} images`);
  }
  const counts = rows.map((r) => r.models as number);
  ctx.log.info(`ensembled ${sources.length} models (${p.method}) over ${rows.length} images; models per image ${Math.min(...counts)}-${Math.max(...counts)}`);
  return {
    kind: 'predictions',
    rows,
    meta: { classes, task, method: p.method, ...(p.no_finding ? { no_finding: { ...p.no_finding, from: gateInput!.instance } } : {}), models: sources.map((s) => ({ name: s.name, rows: s.rows.length, weight: weightOf(s) })), scores: p.method === 'rank' ? 'rank' : fused.some((i) => i.artifact.meta.scores === 'anomaly') ? 'anomaly' : 'probability', ...(Object.keys(histories).length ? { histories } : {}) },
  };
}

/** P(no finding) per image id from the classifier's predictions (the mean when several models predicted an image). */
async function noFindingProbabilities(ctx: StageContext, input: StageInput, spec: { class: string; score_means: 'no_finding' | 'finding' }): Promise<Map<string, number>> {
  if (input.artifact.kind !== 'predictions') throw new StageInputError(`input "${input.name}" must be image classifier predictions, got ${input.artifact.kind}`);
  const { classes } = predictionsMeta(input.artifact, input.name);
  const index = classes.indexOf(spec.class);
  if (index < 0) throw new StageInputError(`input "${input.name}" has no class "${spec.class}" (classes: ${classes.join(', ')})`, 'set no_finding.class (and score_means: finding for an abnormal-vs-normal classifier)');
  const sums = new Map<string, [number, number]>();
  for (const row of await ctx.readRows<PredictionRow>(input.artifact)) {
    const v = row.scores?.[index];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new StageInputError(`input "${input.name}", image ${row.id}: no score for "${spec.class}"`);
    const acc = sums.get(row.id) ?? [0, 0];
    sums.set(row.id, [acc[0] + v, acc[1] + 1]);
  }
  return new Map([...sums].map(([id, [sum, n]]) => [id, spec.score_means === 'no_finding' ? sum / n : 1 - sum / n]));
}
