import { z } from 'zod';
import type { Box } from '../data-model.ts';
import { defineStage, StageInputError } from '../engine/stage.ts';
import type { PredictionRow } from '../evaluation/predictions.ts';
import { readPredictionSources, type PredictionSource } from '../evaluation/sources.ts';
import { weightedBoxesFusion } from '../ops/boxes/wbf.ts';
import { rankColumns, weightedMean } from '../ops/ensemble/combine.ts';

const params = z
  .object({
    method: z.enum(['mean', 'weighted', 'rank']).default('mean').describe('mean of scores; weighted mean (weights:); rank = mean of per-model normalized ranks (scores become ranks in (0, 1], not probabilities)'),
    weights: z.record(z.string(), z.number().min(0)).optional().describe('Per model (source name: the row `model` tag, or the input instance id); missing models weigh 1. Used by weighted and by WBF'),
    boxes: z
      .object({
        iou_thr: z.number().gt(0).lt(1).default(0.55).describe('WBF: boxes of one label with IoU above this fuse'),
        skip_box_thr: z.number().min(0).max(1).default(0).describe('WBF: ignore boxes scoring below this'),
        conf_type: z.enum(['avg', 'max', 'box_and_model_avg', 'absent_model_aware_avg']).default('avg').describe('WBF: how the fused box score is computed'),
      })
      .strict()
      .default({ iou_thr: 0.55, skip_box_thr: 0, conf_type: 'avg' })
      .describe('Weighted Boxes Fusion of predicted boxes (when rows carry boxes)'),
  })
  .strict();

export const ensemble = defineStage({
  name: 'ensemble',
  version: 1,
  description: 'Combines predictions of several models (folds, architectures): mean, weighted mean or rank average of scores; Weighted Boxes Fusion of boxes',
  params,
  inputs: { min: 1 },
  async run(ctx, inputs, p) {
    const { classes, task, sources, histories } = await readPredictionSources(ctx, inputs);
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
    const counts = rows.map((r) => r.models as number);
    ctx.log.info(`ensembled ${sources.length} models (${p.method}) over ${rows.length} images; models per image ${Math.min(...counts)}-${Math.max(...counts)}`);
    return {
      kind: 'predictions',
      rows,
      meta: { classes, task, method: p.method, models: sources.map((s) => ({ name: s.name, rows: s.rows.length, weight: weightOf(s) })), scores: p.method === 'rank' ? 'rank' : 'probability', ...(Object.keys(histories).length ? { histories } : {}) },
    };
  },
});
