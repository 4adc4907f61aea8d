import { z } from 'zod';
import { defineStage, lazyRun } from '../engine/stage.ts';
import { thresholdSchema } from '../evaluation/threshold-schema.ts';
import { METRIC_GROUPS } from '../ops/metrics/groups.ts';

const params = z
  .object({
    metrics: z.array(z.enum(METRIC_GROUPS)).min(1).default([...METRIC_GROUPS]).describe('Metric groups to compute: auc (ROC-AUC), pr_auc (average precision and PR-AUC), f1, sensitivity, specificity, accuracy, confusion, calibration (ECE, Brier, reliability curve)'),
    threshold: thresholdSchema.default('youden'),
    threshold_on: z.enum(['val', 'evaluated']).default('val').describe('Rows the threshold is chosen on: val = the out-of-fold predictions (split ≠ test; falls back to the evaluated rows when there are none), evaluated = the rows being scored (optimistic)'),
    threshold_transfer: z
      .enum(['score', 'rate'])
      .default('score')
      .describe("How a threshold chosen on the out-of-fold rows is applied to the evaluated rows: score = the same score value; rate = the same positive rate (the evaluated rows' scores, not their labels, set the value), for ensembles whose averaged scores sit on a narrower scale than the fold models' out-of-fold scores"),
    positive: z
      .string()
      .min(1)
      .optional()
      .describe("A binary model's positive class, whose values the plain metric names (auc, f1, sensitivity, ...) report. Default: a single-output model's one class; a 2-way softmax's class whose partner reads as the negative class (normal, No finding, negative, benign, healthy, 0, false, no, none, background), else its second class"),
    split: z.enum(['test', 'val', 'all']).default('test').describe('Rows to evaluate: test = split test; val = all other rows (out-of-fold); all'),
    if_no_rows: z
      .enum(['fail', 'skip'])
      .default('fail')
      .describe('When the predictions have no rows in `split`: fail (an error naming the splits present), or skip (logged; a report without metrics), for a split that is only sometimes there, e.g. a held-out test part only reviewers have'),
    bootstrap: z
      .object({
        n: z.number().int().min(0).default(1000).describe('Bootstrap replicates (0 = no confidence intervals)'),
        seed: z.number().int().default(0).describe('Seed of the resampling'),
        level: z.number().gt(0).lt(1).default(0.95).describe('Confidence level of the percentile interval'),
        by: z.enum(['patient', 'image']).default('patient').describe('Resample whole patients (all their images together) or single images'),
      })
      .strict()
      .default({ n: 1000, seed: 0, level: 0.95, by: 'patient' })
      .describe('Percentile bootstrap confidence intervals'),
    calibration_bins: z.number().int().min(2).max(100).default(10).describe('Uniform probability bins of the reliability curve and ECE'),
    iou_thr: z.number().gt(0).lt(1).default(0.4).describe('Detection: IoU above which a prediction hits a truth box in the FROC and the gallery (map_40 / map_50 / coco_map have their own thresholds)'),
    no_finding: z
      .union([z.string(), z.literal(false)])
      .default('No finding')
      .describe('Detection (VinBigData convention): when this class is among the classes or truth labels, an image without boxes is one box [0, 0, 1, 1] of it; false: never'),
    gallery: z
      .object({
        per_group: z.number().int().min(0).default(4).describe('Images per group (best, worst, missed); 0 = no gallery'),
        score_thr: z.union([z.number().min(0), z.literal('f1')]).default('f1').describe('Predicted boxes drawn and counted from this score; f1: the threshold with the best pooled F1 on the evaluated images'),
        display_size: z.number().int().min(64).max(2048).default(320).describe('Width of the drawn images in pixels (never upscaled)'),
      })
      .strict()
      .default({ per_group: 4, score_thr: 'f1', display_size: 320 })
      .describe('Detection: images with predicted and true boxes drawn in the report (needs a dataset input with the images)'),
  })
  .strict();

export type EvaluateParams = z.output<typeof params>;

export const evaluate = defineStage({
  name: 'evaluate',
  version: 5,
  description: 'Scores predictions: ROC-AUC, PR-AUC, F1, sensitivity, specificity, accuracy, confusion, calibration with bootstrap CIs; detection map_40/map_50/coco_map/FROC with CIs; report with plots and drawn boxes',
  params,
  inputs: { min: 1 },
  run: lazyRun(() => import('./evaluate.run.ts')),
});
