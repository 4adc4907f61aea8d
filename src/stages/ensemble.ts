import { z } from 'zod';
import { defineStage, lazyRun } from '../engine/stage.ts';

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
    no_finding: z
      .object({
        input: z.string().default('classifier').describe('Name of the input (from: { <name>: stage }) holding the image classifier\'s predictions; it is not fused'),
        class: z.string().default('No finding').describe('The classifier class whose probability is used; also the label of the added box [0, 0, 1, 1]'),
        score_means: z.enum(['no_finding', 'finding']).default('no_finding').describe('Whether the class score is P(no finding) or P(any finding) (a binary normal/abnormal classifier)'),
        mode: z.enum(['gate', 'rescale', 'filter']).default('filter').describe('gate: p >= threshold removes the boxes; rescale: box scores x (1 - p); filter: the VinBigData 2-class filter (low, high); gate and rescale add a No finding box scored p'),
        threshold: z.number().min(0).max(1).default(0.5).describe('gate: the P(no finding) from which the boxes are removed'),
        low: z.number().min(0).max(1).default(0.08).describe('filter: P(finding) below this -> only a No finding box of score 1'),
        high: z.number().min(0).max(1).default(0.95).describe('filter: P(finding) at or above this -> the boxes as they are; in between, a No finding box of score P(no finding) is added'),
      })
      .strict()
      .optional()
      .describe('Detection: an image classifier\'s "No finding" probability gates or rescales the fused boxes (VinBigData); needs an input of that name'),
  })
  .strict();

export type EnsembleParams = z.output<typeof params>;

export const ensemble = defineStage({
  name: 'ensemble',
  version: 2,
  description: 'Combines predictions of several models (folds, architectures, TTA): mean, weighted mean or rank average of scores; Weighted Boxes Fusion of boxes; "No finding" gating by an image classifier',
  params,
  inputs: { min: 1 },
  run: lazyRun(() => import('./ensemble.run.ts')),
});
